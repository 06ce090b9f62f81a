using DaxStack.Device.Crash;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.Cil;
using DaxStack.Fs.Xfs.Log;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Cil;

/// <summary>
/// A filesystem made by our mkfs (in memory or on an image file), recovered and mounted with a
/// <see cref="XfsCilCommitter"/> as its committer, that can lose power and be recovered again.
/// </summary>
internal sealed class CilTestFs : IDisposable
{
    public static readonly Guid Uuid = Guid.Parse("0c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5");

    private CilTestFs(FsTestDevice device, long budget)
    {
        Device = device;
        Budget = budget;
        Mount = Open(out _);
    }

    public FsTestDevice Device { get; }

    public long Budget { get; }

    public XfsCilCommitter Cil { get; private set; } = null!;

    public XfsMount Mount { get; private set; }

    public int Replayed { get; private set; }

    public static CilTestFs Create(long size = 64L << 20, long budget = XfsCilCommitter.DefaultBudgetBytes)
    {
        var device = FsTestDevice.InMemory(size);
        XfsMkfs.Format(device.Device, new XfsMkfsOptions { AgCount = 2, Reflink = true, Uuid = Uuid });
        return new CilTestFs(device, budget);
    }

    public static CilTestFs CreateOnImage(string path, long budget = XfsCilCommitter.DefaultBudgetBytes)
    {
        var device = FsTestDevice.Image(path);
        XfsMkfs.Format(device.Device, new XfsMkfsOptions { AgCount = 2, Reflink = true, Uuid = Uuid, Force = true });
        return new CilTestFs(device, budget);
    }

    /// <summary>Recovers and mounts the filesystem already on the image file <paramref name="path"/>.</summary>
    public static CilTestFs Open(string path, long budget = XfsCilCommitter.DefaultBudgetBytes) => new(FsTestDevice.Image(path), budget);

    private XfsMount Open(out int replayed, IBlockDeviceOperations? via = null)
    {
        var device = via ?? Device.Device;
        var writer = XfsLogReplay.Recover(device, out replayed);
        Replayed = replayed;
        Cil = new XfsCilCommitter(writer, Budget);
        return Mount = XfsMount.Open(device, new XfsMountOptions { GenerationSeed = 1, Committer = Cil });
    }

    /// <summary>Recovers and mounts the filesystem again, through <paramref name="via"/> (the device itself by default).</summary>
    public void Recover(IBlockDeviceOperations? via = null) => Open(out _, via);

    /// <summary>Power fails under <paramref name="policy"/>; the filesystem is then recovered and mounted again.</summary>
    public void CrashAndRecover(CrashPolicy policy)
    {
        Device.Bus.Space.Crash(policy);
        Open(out _);
    }

    /// <summary>The log's location on the device.</summary>
    public XlogLocation LogLocation => XlogLocation.FromGeometry(Mount.Geometry, Mount.Superblock.Uuid);

    public ulong AllocateInode(ulong parent)
    {
        using var tp = XfsTransaction.Begin(Mount, XfsIalloc.AllocateReservation(Mount));
        ulong ino = XfsIalloc.Allocate(tp, parent);
        tp.Commit();
        return ino;
    }

    public void FreeInode(ulong ino)
    {
        using var tp = XfsTransaction.Begin(Mount, XfsIalloc.FreeReservation(Mount));
        XfsIalloc.Free(tp, ino);
        tp.Commit();
    }

    public bool IsAllocated(ulong ino)
    {
        using var tp = XfsTransaction.Begin(Mount);
        return XfsIalloc.IsAllocated(tp, ino);
    }

    public void Dispose() => Device.Dispose();
}
