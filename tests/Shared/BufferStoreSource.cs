using DaxStack.Device.Platform;

namespace DaxStack.Tests.Shared;

/// <summary>A store source that hands out <c>data</c> in order, at most <c>limit</c> bytes in all, and can fail when it runs short.</summary>
internal sealed class BufferStoreSource(byte[] data, int limit = int.MaxValue, bool throwWhenShort = false) : IStoreSource
{
    private int _position;

    /// <summary>How many times the device asked for bytes.</summary>
    public int Calls { get; private set; }

    public int CopyTo(Span<byte> destination)
    {
        Calls++;
        int n = Math.Min(destination.Length, Math.Min(limit, data.Length) - _position);
        data.AsSpan(_position, n).CopyTo(destination);
        _position += n;
        if (n < destination.Length && throwWhenShort)
            throw new IOException("the source failed part-way");
        return n;
    }
}
