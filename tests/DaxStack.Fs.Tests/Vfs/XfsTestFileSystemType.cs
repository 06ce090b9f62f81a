using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.Super;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Vfs;

/// <summary>
/// The XFS-like filesystem for the VFS contract tests: our mkfs on a fresh in-memory pmem device,
/// mounted through <see cref="XfsFileSystemType"/>; disposing frees the device.
/// </summary>
internal sealed class XfsTestFileSystemType : IFileSystemType, IDisposable
{
    private readonly FsTestDevice _device;
    private readonly XfsFileSystemType _type;

    public XfsTestFileSystemType(long size = 64L << 20, bool reflink = true)
    {
        _device = FsTestDevice.InMemory(size);
        XfsMkfs.Format(_device.Device, new XfsMkfsOptions { AgCount = 2, Reflink = reflink });
        _type = new XfsFileSystemType(_device.Device, new XfsMountOptions { GenerationSeed = 1 });
    }

    public string Name => _type.Name;

    /// <summary>The device (for crash and checker tests).</summary>
    public FsTestDevice Device => _device;

    /// <summary>The mounted filesystem.</summary>
    public XfsSuper? Super => _type.Super;

    public SuperBlock Mount(bool readOnly) => _type.Mount(readOnly);

    public void Dispose() => _device.Dispose();
}
