using System.Runtime.InteropServices;

namespace DaxStack.Device.Media;

/// <summary>
/// Media in zeroed native memory. The allocation is lazily committed by the OS, so a large
/// device costs only the pages that are touched. Contents vanish with the process.
/// </summary>
public sealed unsafe class NativeMedia : IMedia
{
    private byte* _pointer;
    private byte* _allocation;

    public NativeMedia(long length)
    {
        if (length <= 0 || length % 4096 != 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, "media size must be a positive multiple of 4096 bytes");
        // One extra page so the media can start on a page boundary: emulated lines and pages then
        // coincide with host cache lines and pages (calloc's own result is only 16-byte aligned).
        _allocation = (byte*)NativeMemory.AllocZeroed((nuint)(length + 4096));
        _pointer = (byte*)(((nuint)_allocation + 4095) & ~(nuint)4095);
        Length = length;
    }

    public long Length { get; }

    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(NativeMedia));

    public bool IsPersistentStore => false;

    public void Flush() { }

    public void Dispose()
    {
        if (_pointer != null)
        {
            NativeMemory.Free(_allocation);
            _allocation = null;
            _pointer = null;
        }
    }
}
