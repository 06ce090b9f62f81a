using DaxStack.Fs.Xfs.Attr;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// Phase 3: reads every inode of every chunk the inode B+trees list and checks it: the inode
/// verifies (magic, version, CRC, di_ino, uuid, mode and fork formats), its free bit in the
/// chunk record matches whether it is in use, its fork offsets and attribute-fork format are
/// sane, a short-form attribute fork is consistent, its forks' extents and block-map B+trees are sound (claimed in the owner map),
/// di_nextents, di_anextents and di_nblocks match what the forks hold, a directory's size
/// matches its data blocks, and every extra <see cref="IXfsInodeCheck"/> holds. The AGIs'
/// unlinked lists must be empty at rest.
/// </summary>
/// <remarks>Models xfs_repair phase 3 (repair/phase3.c, repair/dino_chunks.c <c>process_inode_chunk</c>, repair/dinode.c <c>process_dinode_int</c>, <c>process_inode_data_fork</c>, <c>process_inode_attr_fork</c>, <c>process_check_inode_sizes</c>).</remarks>
internal static class XfsInodeScanner
{
    /// <summary>XFS_DIR2_LEAF_OFFSET: the byte offset where a directory's leaf blocks begin (32 GiB).</summary>
    private const ulong DirectoryLeafOffset = 1UL << 35;

    public static void Scan(XfsRepairContext ctx, uint agno)
    {
        var ag = ctx.Ags[agno];
        if (ag.Agi is { } agi)
        {
            for (int bucket = 0; bucket < agi.Unlinked.Length; bucket++)
            {
                if (agi.Unlinked[bucket] != XfsFormat.NullAgIno)
                    ctx.Error($"agi {agno}", $"unlinked bucket {bucket} holds agino {agi.Unlinked[bucket]} (an unlinked inode left at rest)");
            }
        }
        foreach (var chunk in ag.InodeChunks)
        {
            for (int i = 0; i < XfsFormat.InodesPerChunk; i++)
            {
                ulong ino = ctx.Geometry.MakeIno(agno, chunk.StartIno + (uint)i);
                bool free = ((chunk.Free >> i) & 1) != 0;
                XfsDinode inode;
                try
                {
                    inode = ctx.Reader.ReadInode(ino);
                }
                catch (XfsException e)
                {
                    ctx.Error(e);
                    if (!free)
                        ctx.BadInodes.Add(ino);
                    continue;
                }
                if (free && inode.InUse)
                {
                    ctx.Error($"inode {ino}", $"in use (mode 0{Convert.ToString(inode.Mode, 8)}) but free in the inobt record of chunk {agno}/{chunk.StartIno}");
                    ctx.BadInodes.Add(ino);
                }
                else if (!free && !inode.InUse)
                    ctx.Error($"inode {ino}", $"free (mode 0) but in use in the inobt record of chunk {agno}/{chunk.StartIno}");
                else if (!free)
                    CheckInUse(ctx, inode);
            }
        }
    }

    private static void CheckInUse(XfsRepairContext ctx, XfsDinode inode)
    {
        ulong ino = inode.Ino;
        string name = $"inode {ino}";
        var findings = new XfsInodeFindings(ino, inode.FileType, inode.Nlink);
        ctx.Inodes[ino] = findings;
        if (inode.ForkOff == 0)
        {
            if (inode.ANExtents != 0)
                ctx.Error(name, $"anextents {inode.ANExtents} without an attribute fork");
            if (inode.AFormat != XfsDinodeFormat.Extents)
                ctx.Error(name, $"aformat {inode.AFormat} without an attribute fork (expected extents)");
        }
        else if (inode.AFormat is not (XfsDinodeFormat.Local or XfsDinodeFormat.Extents or XfsDinodeFormat.Btree))
            ctx.Error(name, $"aformat {inode.AFormat} is not an attribute fork format");

        CheckFlags(ctx, inode);
        int dataOwner = ctx.Owners.Register($"inode {ino} data fork", dataFork: true);
        int dataBtreeOwner = ctx.Owners.Register($"inode {ino} data fork bmbt");
        var data = XfsForkScanner.Scan(ctx, inode, "data", inode.DataFork, inode.Format, inode.NExtents, dataOwner, dataBtreeOwner);
        XfsForkScan? attr = null;
        if (inode.ForkOff != 0 && inode.ForkOff * 8 < inode.Literal.Length)
        {
            int attrOwner = ctx.Owners.Register($"inode {ino} attr fork");
            int attrBtreeOwner = ctx.Owners.Register($"inode {ino} attr fork bmbt");
            attr = XfsForkScanner.Scan(ctx, inode, "attr", inode.Literal.AsSpan(inode.ForkOff * 8), inode.AFormat, inode.ANExtents, attrOwner, attrBtreeOwner);
        }
        if (inode.ForkOff != 0 && inode.AFormat == XfsDinodeFormat.Local && inode.ForkOff * 8 < inode.Literal.Length)
            CheckShortformAttr(ctx, inode);
        if (inode.AFormat == XfsDinodeFormat.Extents && attr is { Complete: true, Extents.Count: > 0 })
            CheckAttrLeaf(ctx, inode, attr.Extents);
        if (!data.Complete || attr is { Complete: false })
            ctx.ForksComplete = false;
        if (inode.Format is XfsDinodeFormat.Local or XfsDinodeFormat.Dev && inode.NExtents != 0)
            ctx.Error(name, $"nextents {inode.NExtents} in a {inode.Format.ToString().ToLowerInvariant()}-format data fork");
        if (inode.Format == XfsDinodeFormat.Btree && data.Complete && inode.NExtents != data.Extents.Count)
            ctx.Error(name, $"nextents {inode.NExtents} but the data fork bmbt holds {data.Extents.Count} extents");
        // A fork is in btree format only when its extents do not fit the inode (xfs_bmap_add_extent
        // converts back to extents format when they do), as xfs_repair requires.
        if (inode.Format == XfsDinodeFormat.Btree && data.Complete && data.Extents.Count <= inode.DataFork.Length / XfsBmbtRecord.Size)
            ctx.Error(name, $"data fork in btree format holds {data.Extents.Count} extents, which fit the inode's {inode.DataFork.Length / XfsBmbtRecord.Size}-extent fork");
        if (inode.AFormat == XfsDinodeFormat.Btree && attr is { Complete: true } && attr.Extents.Count <= (inode.Literal.Length - inode.ForkOff * 8) / XfsBmbtRecord.Size)
            ctx.Error(name, $"attr fork in btree format holds {attr.Extents.Count} extents, which fit the inode");
        if (inode.AFormat == XfsDinodeFormat.Btree && attr is { Complete: true } && inode.ANExtents != attr.Extents.Count)
            ctx.Error(name, $"anextents {inode.ANExtents} but the attr fork bmbt holds {attr.Extents.Count} extents");
        if (data.Complete && attr is null or { Complete: true })
        {
            long blocks = data.DataBlocks + data.BtreeBlocks + (attr?.DataBlocks ?? 0) + (attr?.BtreeBlocks ?? 0);
            if ((long)inode.NBlocks != blocks)
                ctx.Error(name, $"nblocks {inode.NBlocks} but its forks map {blocks} blocks");
        }
        if (inode.FileType == XfsDinode.TypeDirectory)
        {
            findings.Directory = inode;
            if (inode.Format != XfsDinodeFormat.Local && data.Complete)
                CheckDirectorySize(ctx, inode, data);
        }
        if (inode.FileType == XfsDinode.TypeRegular && (inode.Flags2 & XfsDiFlags2.Reflink) == 0)
            findings.UnsharedExtents = data.Extents;
        foreach (var check in ctx.Options.InodeChecks)
        {
            foreach (var problem in check.Check(ctx.Reader, inode))
                ctx.Error(name, problem);
        }
    }

    // process_shortform_attr / xfs_attr_shortform_verify: totsize within the fork and equal to
    // the header plus the entries, non-empty names without NULs, one known namespace flag.
    private static void CheckShortformAttr(XfsRepairContext ctx, XfsDinode inode)
    {
        string name = $"inode {inode.Ino}";
        if (inode.ANExtents != 0)
            ctx.Error(name, $"anextents {inode.ANExtents} in a local-format attr fork");
        if (XfsAttrShortform.Verify(inode.Literal.AsSpan(inode.ForkOff * 8)) is { } problem)
            ctx.Error(name, $"short-form attr fork: {problem}");
    }

    // process_longform_attr for the one-leaf case: block 0 of the attr fork is a leaf block of
    // this inode at its own address, as xfs_attr3_leaf_verify and process_leaf_attr_block check.
    private static void CheckAttrLeaf(XfsRepairContext ctx, XfsDinode inode, List<XfsBmbtRecord> extents)
    {
        string name = $"inode {inode.Ino}";
        var first = extents[0];
        if (first.StartOff != 0)
        {
            ctx.Error(name, $"attr fork has no block 0 (first extent at {first.StartOff})");
            return;
        }
        if (extents.Count != 1 || first.BlockCount != 1)
        {
            ctx.Note(name, "attr fork maps more than one block (an attribute B+tree): its blocks are not checked");
            return;
        }
        var g = ctx.Geometry;
        byte[] block;
        try
        {
            block = ctx.Reader.ReadFsBlock(first.StartBlock, $"{name} attr leaf");
        }
        catch (XfsException e)
        {
            ctx.Error(e);
            return;
        }
        string where = $"{name} attr leaf {g.FsbToAgno(first.StartBlock)}/{g.FsbToAgbno(first.StartBlock)}";
        if (XfsAttr3LeafBlock.Check(block) is { } problem)
            ctx.Error(where, problem);
        else if (!XfsCrc.Verify(block, XfsAttr3LeafBlock.CrcOffset))
            ctx.Error(where, "CRC mismatch");
        else if (Be.U64(block, 48) != inode.Ino)
            ctx.Error(where, $"owner {Be.U64(block, 48)} is not the inode");
        else if (Be.U64(block, 16) != g.AgBlockToDaddr(g.FsbToAgno(first.StartBlock), g.FsbToAgbno(first.StartBlock)))
            ctx.Error(where, $"blkno {Be.U64(block, 16)} is not the block's address");
        else if (Be.Uuid(block, 32) != ctx.Superblock.MetadataUuid)
            ctx.Error(where, $"uuid {Be.Uuid(block, 32)} is not the filesystem's");
    }

    private static void CheckFlags(XfsRepairContext ctx, XfsDinode inode)
    {
        string name = $"inode {inode.Ino}";
        var sb = ctx.Superblock;
        // di_flags bit 15 is undefined; di_flags2 bits above NREXT64 are, and each defined one needs its feature.
        if (((ushort)inode.Flags & 0x8000) != 0)
            ctx.Error(name, $"di_flags 0x{(ushort)inode.Flags:x} has an undefined bit");
        var known = XfsDiFlags2.Dax | XfsDiFlags2.CowExtSize;
        if (ctx.HasReflink)
            known |= XfsDiFlags2.Reflink;
        if ((sb.FeaturesIncompat & XfsIncompatFeatures.BigTime) != 0)
            known |= XfsDiFlags2.BigTime;
        if ((sb.FeaturesIncompat & XfsIncompatFeatures.NRext64) != 0)
            known |= XfsDiFlags2.NRext64;
        if ((inode.Flags2 & ~known) != 0)
            ctx.Error(name, $"di_flags2 0x{(ulong)inode.Flags2:x} has bits undefined or whose feature the filesystem lacks (0x{(ulong)(inode.Flags2 & ~known):x})");
    }

    // The kernel keeps a block/leaf/node directory's di_size at the end of its last data block
    // (xfs_dir2_grow_inode raises it, xfs_dir2_shrink_inode lowers it to the last data block
    // left); xfs_repair -n only bounds it, this checks the exact value.
    private static void CheckDirectorySize(XfsRepairContext ctx, XfsDinode inode, XfsForkScan data)
    {
        var g = ctx.Geometry;
        ulong dirBlockSize = (ulong)g.BlockSize << ctx.Superblock.DirBlkLog;
        ulong leafBlock = DirectoryLeafOffset >> g.BlockLog;
        ulong end = 0;
        foreach (var e in data.Extents.Where(e => e.StartOff < leafBlock))
            end = Math.Max(end, Math.Min(e.StartOff + e.BlockCount, leafBlock));
        ulong expected = end << g.BlockLog;
        if (inode.Size % dirBlockSize != 0 || inode.Size != expected)
            ctx.Error($"inode {inode.Ino}", $"directory size {inode.Size} but its data blocks end at byte {expected} (directory blocks of {dirBlockSize} bytes)");
    }
}
