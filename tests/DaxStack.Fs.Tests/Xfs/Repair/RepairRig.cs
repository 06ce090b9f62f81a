using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Repair;

namespace DaxStack.Fs.Tests.Xfs.Repair;

/// <summary>
/// An image file for checker tests: made by our mkfs or by real mkfs.xfs (optionally populated
/// from a protofile), checked by our checker or by xfs_repair -n, and damaged in place by
/// editing bytes (optionally re-stamping the structure's CRC so the damage is logical only).
/// </summary>
internal sealed class RepairRig : IDisposable
{
    public const long MiB = 1 << 20;

    private RepairRig(string dir, string path)
    {
        Dir = dir;
        ImagePath = path;
    }

    public string Dir { get; }

    public string ImagePath { get; }

    /// <summary>An image of <paramref name="size"/> bytes made by our mkfs.</summary>
    public static RepairRig OurMkfs(long size = 64 * MiB, uint? agcount = 4, bool reflink = true)
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-check-").FullName;
        string path = FsTestDevice.SparseImage(dir, "fs.img", size);
        using (var dev = FsTestDevice.Image(path))
            XfsMkfs.Format(dev.Device, new XfsMkfsOptions { AgCount = agcount, Reflink = reflink });
        return new RepairRig(dir, path);
    }

    /// <summary>
    /// An image of <paramref name="size"/> bytes made by real mkfs.xfs with DaxStack's feature
    /// set, populated from a protofile holding <paramref name="protoBody"/> (the lines after the
    /// root directory line; <c>{content}</c> stands for the directory of content files) when given.
    /// </summary>
    public static RepairRig MkfsXfs(long size, string? protoBody = null, Action<string>? makeContent = null, params string[] extra)
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-check-").FullName;
        string path = FsTestDevice.SparseImage(dir, "real.img", size);
        List<string> options = ["-m", "reflink=1", .. extra];
        if (protoBody != null)
        {
            string content = Path.Combine(dir, "content");
            Directory.CreateDirectory(content);
            makeContent?.Invoke(content);
            string proto = Path.Combine(dir, "proto");
            File.WriteAllText(proto, "dummy\n0 0\nd--755 0 0\n" + protoBody.Replace("{content}", content, StringComparison.Ordinal) + "$\n");
            options.AddRange(["-p", proto]);
        }
        XfsProgs.MkfsXfs(path, [.. options]);
        return new RepairRig(dir, path);
    }

    /// <summary>Runs our checker on the image.</summary>
    public XfsRepairReport Check(XfsRepairOptions? options = null)
    {
        using var dev = FsTestDevice.Image(ImagePath, readOnly: true);
        return XfsChecker.Check(dev.Device, options);
    }

    /// <summary>Runs <paramref name="inspect"/> with a metadata reader on the image.</summary>
    public T Inspect<T>(Func<XfsMetadataReader, T> inspect)
    {
        using var dev = FsTestDevice.Image(ImagePath, readOnly: true);
        return inspect(XfsMetadataReader.Open(dev.Device, trustPrimary: true));
    }

    /// <summary>
    /// Edits the <paramref name="length"/> bytes at <paramref name="offset"/> of the image with
    /// <paramref name="edit"/>; when <paramref name="crcOffset"/> is given (relative to
    /// <paramref name="offset"/>), re-stamps the CRC there so only the logical content is wrong.
    /// </summary>
    public void Patch(long offset, int length, Action<byte[]> edit, int? crcOffset = null)
    {
        var bytes = new byte[length];
        using var f = new FileStream(ImagePath, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        f.ReadExactly(bytes);
        edit(bytes);
        if (crcOffset is { } c)
            XfsCrc.Stamp(bytes, c);
        f.Position = offset;
        f.Write(bytes);
    }

    /// <summary>Flips bits of one byte at <paramref name="offset"/> (the structure's CRC no longer matches).</summary>
    public void FlipByte(long offset) => Patch(offset, 1, b => b[0] ^= 0x5A);

    /// <summary>Byte offset of AG block <paramref name="agbno"/> of AG <paramref name="agno"/>.</summary>
    public long AgBlockOffset(uint agno, uint agbno) => Inspect(r => r.Geometry.AgBlockOffset(agno, agbno));

    /// <summary>The AG B+tree block at <paramref name="agbno"/> of AG <paramref name="agno"/>: edits it and re-stamps its CRC.</summary>
    public void PatchBtreeBlock(uint agno, uint agbno, Action<byte[]> edit) =>
        Patch(AgBlockOffset(agno, agbno), 4096, edit, XfsFormat.ShortBtreeCrcOffset);

    /// <summary>Edits AG header sector <paramref name="sector"/> of AG <paramref name="agno"/> and re-stamps the CRC at <paramref name="crcOffset"/>.</summary>
    public void PatchSector(uint agno, int sector, int crcOffset, Action<byte[]> edit) =>
        Patch(AgBlockOffset(agno, 0) + sector * 512L, 512, edit, crcOffset);

    /// <summary>Edits inode <paramref name="ino"/> and re-stamps its CRC.</summary>
    public void PatchInode(ulong ino, Action<byte[]> edit) =>
        Patch(Inspect(r => r.Geometry.InodeOffset(ino)), 512, edit, XfsFormat.DinodeCrcOffset);

    /// <summary>Byte offset of inode <paramref name="ino"/>.</summary>
    public long InodeOffset(ulong ino) => Inspect(r => r.Geometry.InodeOffset(ino));

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
