using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Pmem;
using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.Super;
using DaxStack.Fs.Xfs.Trans;
using VfsTree = DaxStack.Fs.Vfs.Vfs;

namespace DaxStack.Bench.Fs;

/// <summary>
/// The stack the filesystem suites measure: an in-memory optane-adr namespace with the pmem
/// driver attached, formatted by our mkfs, mounted as the root of a VFS tree, and a root process
/// that issues the syscalls. Disposing releases the process and the device's memory.
/// </summary>
/// <remarks>
/// The counterpart of running fio or a small syscall loop against an XFS filesystem mounted with
/// <c>-o dax</c> on a Linux <c>/dev/pmemN</c> (<c>xfs_fs_fill_super</c> on a pmem block device).
/// </remarks>
internal sealed class FsBenchPlatform : IDisposable
{
    private readonly NvdimmBus _bus;

    /// <summary>Formats and mounts a filesystem of <paramref name="bytes"/> bytes in <paramref name="agCount"/> AGs.</summary>
    public FsBenchPlatform(long bytes, uint agCount)
    {
        _bus = new NvdimmBus(new CostProfileCatalog(new NvdimmOptions()));
        var region = _bus.AddMemory(new NativeMedia(bytes));
        var device = new PmemDriver(new PmemOptions { QueueCount = 1 }).AttachPmem(region, region.Namespaces[0]);
        XfsMkfs.Format(device, new XfsMkfsOptions { AgCount = agCount });
        Tree = new VfsTree(new XfsFileSystemType(device, new XfsMountOptions { GenerationSeed = 1 }));
        Root = Tree.CreateProcess(Credentials.Root);
    }

    /// <summary>The VFS tree with the filesystem at "/".</summary>
    public VfsTree Tree { get; }

    /// <summary>A process with uid 0 and every capability.</summary>
    public Process Root { get; }

    /// <summary>
    /// Modeled nanoseconds charged so far to every emulated CPU of the address space (the
    /// driver's queue CPU and each thread's CPU, those of threads that have ended included),
    /// which is the device time the syscalls cost.
    /// </summary>
    public double ModeledNanoseconds => _bus.Space.ModeledNanoseconds;

    /// <summary>Writes <paramref name="length"/> bytes of <paramref name="fill"/> to a new file at <paramref name="path"/> and fsyncs it.</summary>
    public void CreateFile(string path, long length, ReadOnlySpan<byte> fill)
    {
        int fd = Root.Open(path, OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_WRONLY, 0x1A4);
        try
        {
            for (long off = 0; off < length; off += fill.Length)
            {
                int n = Root.Pwrite(fd, fill[..(int)Math.Min(fill.Length, length - off)], off);
                if (n <= 0)
                    throw new InvalidOperationException($"short write of {path} at {off}: {n}");
            }

            Root.Fsync(fd);
        }
        finally
        {
            Root.Close(fd);
        }
    }

    public void Dispose()
    {
        Root.Dispose();
        _bus.Dispose();
    }
}
