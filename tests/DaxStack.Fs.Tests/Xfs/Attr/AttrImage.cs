using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Repair;
using DaxStack.Fs.Xfs.Super;
using DaxStack.Fs.Xfs.Trans;
using VfsTree = DaxStack.Fs.Vfs.Vfs;

namespace DaxStack.Fs.Tests.Xfs.Attr;

/// <summary>
/// An image file made by our mkfs (or real mkfs.xfs with a protofile) for attribute tests: mounted through the VFS for a root
/// process (<see cref="Session"/>), cleanly unmounted, then read by our checker, our inode
/// decoder, real xfs_db (read-only, or in expert mode to set attributes with libxfs) and real
/// xfs_repair -n.
/// </summary>
internal sealed class AttrImage : IDisposable
{
    private readonly string _dir;

    public AttrImage(long size = 64L << 20, string? protoBody = null)
    {
        _dir = Directory.CreateTempSubdirectory("daxstack-attr-").FullName;
        Path = FsTestDevice.SparseImage(_dir, "attr.img", size);
        if (protoBody == null)
        {
            using var dev = FsTestDevice.Image(Path);
            XfsMkfs.Format(dev.Device, new XfsMkfsOptions { AgCount = 2, Reflink = true });
        }
        else
        {
            // Real mkfs.xfs populated from a protofile: the only way to get symlinks and special
            // files, which our VFS cannot create.
            string proto = System.IO.Path.Combine(_dir, "proto");
            File.WriteAllText(proto, "dummy\n0 0\nd--755 0 0\n" + protoBody + "$\n");
            XfsProgs.MkfsXfs(Path, "-m", "reflink=1", "-d", "agcount=2", "-p", proto);
        }
    }

    public string Path { get; }

    /// <summary>Mounts the image, runs <paramref name="work"/> as root, and unmounts cleanly.</summary>
    public void Session(Action<Process> work)
    {
        using var dev = FsTestDevice.Image(Path);
        var type = new XfsFileSystemType(dev.Device, new XfsMountOptions { GenerationSeed = 7 });
        var tree = new VfsTree(type);
        var p = tree.CreateProcess(Credentials.Root);
        try
        {
            work(p);
        }
        finally
        {
            p.Dispose();
            type.Super!.Sb.Operations.PutSuper();
        }
    }

    /// <summary>The on-disk inode <paramref name="ino"/> as our decoder reads it.</summary>
    public XfsDinode Inode(long ino)
    {
        using var dev = FsTestDevice.Image(Path, readOnly: true);
        return XfsMetadataReader.Open(dev.Device).ReadInode((ulong)ino);
    }

    /// <summary>Our checker's report.</summary>
    public XfsRepairReport Check()
    {
        using var dev = FsTestDevice.Image(Path, readOnly: true);
        return XfsChecker.Check(dev.Device);
    }

    /// <summary>Edits inode <paramref name="ino"/> in place and re-stamps its CRC.</summary>
    public void PatchInode(long ino, Action<byte[]> edit)
    {
        long offset;
        using (var dev = FsTestDevice.Image(Path, readOnly: true))
            offset = XfsMetadataReader.Open(dev.Device).Geometry.InodeOffset((ulong)ino);
        var bytes = new byte[512];
        using var f = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        f.ReadExactly(bytes);
        edit(bytes);
        XfsCrc.Stamp(bytes, XfsFormat.DinodeCrcOffset);
        f.Position = offset;
        f.Write(bytes);
    }

    /// <summary>Runs real xfs_db in expert mode (libxfs changes the image) with <paramref name="commands"/>.</summary>
    public void XfsDbExpert(params string[] commands)
    {
        var args = new List<string> { "-x", Path };
        foreach (var c in commands)
            args.AddRange(["-c", c]);
        var (status, output, error) = XfsProgs.Run("xfs_db", [.. args]);
        Assert.That(status, Is.Zero, $"xfs_db -x failed: {output} {error}");
        Assert.That(output + error, Does.Not.Contain("failed").IgnoreCase, $"xfs_db -x: {output} {error}");
    }

    /// <summary>The fields real <c>xfs_db -r -c "inode N" -c print</c> prints, in order.</summary>
    public List<KeyValuePair<string, string>> XfsDbInode(long ino) =>
        [.. XfsProgs.Db(Path, $"inode {ino}", "print")
            .Select(l => l.Split(" = ", 2))
            .Where(p => p.Length == 2)
            .Select(p => new KeyValuePair<string, string>(p[0].Trim(), p[1].Trim()))];

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
