using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Log;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.BadImage;

/// <summary>Every metadata structure the bad-image suite damages, located in a <see cref="PopulatedImage"/>.</summary>
/// <remarks>Models the structure list of fstests' xfs/ fuzz groups (xfs/350-xfs/500: sb, agf, agi, agfl, bnobt, cntbt, inobt, finobt, refcountbt, inode, bmbt, dir blocks, log).</remarks>
internal static class BadImageTargets
{
    /// <summary>First directory block of the leaf (and node) space: XFS_DIR2_LEAF_OFFSET, 32 GiB, in 4 KiB blocks.</summary>
    private const ulong LeafSpaceBlock = (32UL << 30) / PopulatedImage.Block;

    public static IEnumerable<IBadImageTarget> All()
    {
        yield return new MetadataTarget("sb", (r, _) => (0x96, "sb 0"));
        yield return new MetadataTarget("agf", (r, _) => (r.Geometry.AgHeaderOffset(0, 1) + 55, "agf 0"));
        yield return new MetadataTarget("agi", (r, _) => (r.Geometry.AgHeaderOffset(0, 2) + 31, "agi 0"));
        yield return new MetadataTarget("agfl", (r, _) => (r.Geometry.AgHeaderOffset(0, 3) + XfsAgfl.HeaderSize + 4 * (int)r.ReadAgf(0).FlFirst, "agfl 0"));
        yield return new MetadataTarget("bnobt", (r, _) => AgBtree(r, "bnobt", r.ReadAgf(0).BnoRoot));
        yield return new MetadataTarget("cntbt", (r, _) => AgBtree(r, "cntbt", r.ReadAgf(0).CntRoot));
        yield return new MetadataTarget("inobt", (r, _) => AgBtree(r, "inobt", r.ReadAgi(0).Root));
        yield return new MetadataTarget("finobt", (r, _) => AgBtree(r, "finobt", r.ReadAgi(0).FreeRoot));
        yield return new MetadataTarget("refcountbt", (r, _) => AgBtree(r, "refcountbt", r.ReadAgf(0).RefcountRoot));
        yield return new MetadataTarget("inode core", (r, img) => (r.Geometry.InodeOffset((ulong)img.DataIno) + 16, $"inode {img.DataIno}"));
        yield return new MetadataTarget("short-form dir", (r, img) => (r.Geometry.InodeOffset((ulong)img.ShortDirIno) + XfsDinode.CoreSize + 8, $"inode {img.ShortDirIno}"));
        yield return new MetadataTarget("bmbt", (r, img) => Bmbt(r, img));
        yield return new MetadataTarget("dir block", (r, img) => DirBlock(r, img.BlockDirIno, 0, "dir3 block"), CheckerName: img => $"directory {img.BlockDirIno}:");
        yield return new MetadataTarget("dir data", (r, img) => DirBlock(r, img.LeafDirIno, 0, "dir3 data"), CheckerName: img => $"directory {img.LeafDirIno}:");
        yield return new MetadataTarget("dir leaf", (r, img) => DirBlock(r, img.LeafDirIno, LeafSpaceBlock, "dir3 leaf1"), CheckerName: img => $"directory {img.LeafDirIno}:");
        yield return new MetadataTarget("log head", (r, _) => LogHead(r), TornWrite: true);
    }

    private static (long, string) AgBtree(XfsMetadataReader r, string kind, uint root) =>
        (r.Geometry.AgBlockOffset(0, root) + 200, $"{kind} block 0/{root}");

    private static (long, string) Fsb(XfsMetadataReader r, ulong fsb, string kind, int at) =>
        (r.Geometry.FsbToOffset(fsb) + at, $"{kind} {r.Geometry.FsbToAgno(fsb)}/{r.Geometry.FsbToAgbno(fsb)}");

    // The extents of an inode's extent-format data fork.
    private static List<XfsBmbtRecord> Extents(XfsMetadataReader r, long ino)
    {
        var dinode = r.ReadInode((ulong)ino);
        if (dinode.Format != XfsDinodeFormat.Extents)
            throw new InvalidOperationException($"inode {ino} is in {dinode.Format} format, not extents");
        var bytes = r.ReadInodeBytes((ulong)ino);
        return Enumerable.Range(0, (int)dinode.NExtents)
            .Select(i => XfsBmbtRecord.ReadFrom(bytes.AsSpan(XfsDinode.CoreSize + i * XfsBmbtRecord.Size)))
            .ToList();
    }

    private static (long, string) DirBlock(XfsMetadataReader r, long ino, ulong firstDirBlock, string kind)
    {
        var extent = Extents(r, ino).First(e => e.StartOff >= firstDirBlock);
        return Fsb(r, extent.StartBlock, kind, 300);
    }

    private static (long, string) Bmbt(XfsMetadataReader r, PopulatedImage img)
    {
        var dinode = r.ReadInode((ulong)img.BtreeIno);
        if (dinode.Format != XfsDinodeFormat.Btree)
            throw new InvalidOperationException($"inode {img.BtreeIno} is in {dinode.Format} format, not btree");
        var bytes = r.ReadInodeBytes((ulong)img.BtreeIno);
        int forkSize = dinode.ForkOff == 0 ? r.Geometry.InodeSize - XfsDinode.CoreSize : dinode.ForkOff * 8;
        var root = XfsBmdrBlock.ReadFrom(bytes.AsSpan(XfsDinode.CoreSize, forkSize), $"inode {img.BtreeIno} data fork");
        // Block-map B+tree blocks are named by their filesystem block number.
        ulong fsb = root.Pointers[0];
        return (r.Geometry.FsbToOffset(fsb) + 200, $"bmbt block {fsb}");
    }

    private static (long, string) LogHead(XfsMetadataReader r)
    {
        var location = XlogLocation.FromGeometry(r.Geometry, r.Superblock.Uuid);
        var log = XlogReader.Read(r.Device, location);
        if (log.LastRecordBlock < 0)
            throw new InvalidOperationException("the clean log holds no record");
        // A byte of the record's first data sector: its CRC no longer matches.
        return (location.BlockOffset((uint)log.LastRecordBlock) + 512 + 20, "log");
    }
}
