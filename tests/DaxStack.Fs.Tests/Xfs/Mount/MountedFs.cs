using DaxStack.Device.Crash;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Mount;

/// <summary>A filesystem made by our mkfs and mounted with <see cref="XfsMount.Mount"/> (log recovery, delayed logging), that can lose power and be mounted again.</summary>
internal sealed class MountedFs : IDisposable
{
    public static readonly Guid Uuid = Guid.Parse("3f2e1d0c-5b4a-4978-8695-a4b3c2d1e0f9");

    private MountedFs(FsTestDevice device, XfsMountOptions options, IBlockDeviceOperations? via)
    {
        Device = device;
        Options = options;
        Mount = XfsMount.Mount(via ?? device.Device, options);
    }

    public FsTestDevice Device { get; }

    public XfsMountOptions Options { get; }

    public XfsMount Mount { get; private set; }

    public static MountedFs Create(long size = 64L << 20, XfsMountOptions? options = null, Func<IBlockDeviceOperations, IBlockDeviceOperations>? via = null)
    {
        var device = FsTestDevice.InMemory(size);
        XfsMkfs.Format(device.Device, new XfsMkfsOptions { AgCount = 2, Reflink = true, Uuid = Uuid });
        return new MountedFs(device, options ?? new XfsMountOptions { GenerationSeed = 1 }, via?.Invoke(device.Device));
    }

    public static MountedFs CreateOnImage(string path, XfsMountOptions? options = null)
    {
        var device = FsTestDevice.Image(path);
        XfsMkfs.Format(device.Device, new XfsMkfsOptions { AgCount = 2, Reflink = true, Uuid = Uuid, Force = true });
        return new MountedFs(device, options ?? new XfsMountOptions { GenerationSeed = 1 }, null);
    }

    public static MountedFs Open(string path, XfsMountOptions? options = null) =>
        new(FsTestDevice.Image(path), options ?? new XfsMountOptions { GenerationSeed = 1 }, null);

    /// <summary>Mounts again (recovering the log), through <paramref name="via"/> (the device itself by default).</summary>
    public void Remount(IBlockDeviceOperations? via = null) => Mount = XfsMount.Mount(via ?? Device.Device, Options);

    /// <summary>Power fails under <paramref name="policy"/>; the filesystem is then mounted again.</summary>
    public void CrashAndRemount(CrashPolicy policy)
    {
        Device.Bus.Space.Crash(policy);
        Remount();
    }

    public (ulong Ino, long Sequence) AllocateInode()
    {
        using var tp = XfsTransaction.Begin(Mount, XfsIalloc.AllocateReservation(Mount));
        ulong ino = XfsIalloc.Allocate(tp, Mount.Superblock.RootIno);
        tp.Commit();
        return (ino, tp.CommitSequence);
    }

    public long FreeInode(ulong ino)
    {
        using var tp = XfsTransaction.Begin(Mount, XfsIalloc.FreeReservation(Mount));
        XfsIalloc.Free(tp, ino);
        tp.Commit();
        return tp.CommitSequence;
    }

    public bool IsAllocated(ulong ino)
    {
        using var tp = XfsTransaction.Begin(Mount);
        return XfsIalloc.IsAllocated(tp, ino);
    }

    public (XfsAgExtent Extent, long Sequence) Allocate(XfsAllocRequest request)
    {
        using var tp = XfsTransaction.Begin(Mount, request.MaxLen + 8);
        var e = XfsAlloc.Allocate(tp, request);
        tp.Commit();
        return (e, tp.CommitSequence);
    }

    public long Free(XfsAgExtent e)
    {
        using var tp = XfsTransaction.Begin(Mount);
        XfsAlloc.Free(tp, e.AgNo, e.AgBno, e.Length);
        tp.Commit();
        return tp.CommitSequence;
    }

    public void Dispose() => Device.Dispose();
}
