using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Repair;

/// <summary>
/// Adds to a fresh image from our mkfs a regular file whose data fork is in btree format (a
/// block-map B+tree root in the inode, one BMA3 leaf block holding <see cref="Extents"/>
/// one-block extents with holes between them: more than the inode could hold, as the btree
/// format requires), updating every
/// structure that accounts for it (free-space B+trees, AGF, inode B+trees, AGI, superblock
/// counters, the root directory), so the result is consistent for both checkers. Nothing in
/// DaxStack writes such files yet; this is how the checker's bmbt walk gets real input.
/// </summary>
internal static class BtreeFileBuilder
{
    /// <summary>Extents of the file: one more than a 512-byte inode's data fork holds (336 / 16 = 21).</summary>
    public const int Extents = 22;

    /// <summary>The file's inode, its bmbt leaf (AG, AG block) and its first data block (the others follow it).</summary>
    public sealed record Result(ulong Ino, uint Agno, uint LeafAgbno, uint DataAgbno);

    /// <summary>
    /// Adds the file named <paramref name="name"/> to the root directory; the blocks come from
    /// the start of AG <paramref name="agno"/>'s first free extent. With
    /// <paramref name="shareFirstBlock"/> the file's second extent maps the same block as its
    /// first (a file may share blocks with itself), recorded with refcount 2 in the refcount
    /// B+tree and the inode's reflink flag set.
    /// </summary>
    public static Result Add(RepairRig rig, string name = "bt", uint agno = 1, bool shareFirstBlock = false)
    {
        var (sb, agf, agi0, freeRec) = rig.Inspect(r =>
        {
            var agf = r.ReadAgf(agno);
            var block = new byte[4096];
            var h = r.ReadBtreeBlock(XfsBtreeKind.Bno, agno, agf.BnoRoot, block);
            Assert.That((h.Level, agf.BnoLevel, agf.CntLevel), Is.EqualTo((0, 1u, 1u)), "the builder needs single-leaf free-space trees");
            return (r.Superblock, agf, r.ReadAgi(0), XfsAllocRecord.ReadFrom(block.AsSpan(XfsBtreeShortBlock.HeaderSize)));
        });
        uint leaf = freeRec.StartBlock, data = freeRec.StartBlock + 1;
        uint taken = shareFirstBlock ? (uint)Extents : Extents + 1;
        var shrunk = new XfsAllocRecord(freeRec.StartBlock + taken, freeRec.BlockCount - taken);

        // Free space: the first extent of both trees loses the file's blocks (it is also the longest, so
        // it stays last in the by-size tree only if it was alone; the builder asserts that).
        foreach (var root in new[] { agf.BnoRoot, agf.CntRoot })
        {
            rig.PatchBtreeBlock(agno, root, b =>
            {
                var match = Enumerable.Range(0, Be.U16(b, 6)).Single(i => XfsAllocRecord.ReadFrom(b.AsSpan(56 + 8 * i)) == freeRec);
                shrunk.WriteTo(b.AsSpan(56 + 8 * match));
            });
        }
        Assert.That(agf.Longest, Is.EqualTo(freeRec.BlockCount), "the builder takes blocks from the longest free extent");
        rig.PatchSector(agno, 1, XfsFormat.AgfCrcOffset, s =>
        {
            Be.Put32(s, 52, agf.FreeBlks - taken);
            Be.Put32(s, 56, agf.Longest - taken);
        });

        // The inode: the first free one of AG 0's first chunk.
        var chunk = rig.Inspect(r =>
        {
            var block = new byte[4096];
            r.ReadBtreeBlock(XfsBtreeKind.Ino, 0, agi0.Root, block);
            return XfsInobtRecord.ReadFrom(block.AsSpan(XfsBtreeShortBlock.HeaderSize));
        });
        int slot = System.Numerics.BitOperations.TrailingZeroCount(chunk.Free);
        ulong ino = rig.Inspect(r => r.Geometry.MakeIno(0, chunk.StartIno + (uint)slot));
        var used = chunk with { FreeCount = chunk.FreeCount - 1, Free = chunk.Free & ~(1UL << slot) };
        rig.PatchBtreeBlock(0, agi0.Root, b => used.WriteTo(b.AsSpan(XfsBtreeShortBlock.HeaderSize)));
        rig.PatchBtreeBlock(0, agi0.FreeRoot, b => used.WriteTo(b.AsSpan(XfsBtreeShortBlock.HeaderSize)));
        rig.PatchSector(0, 2, XfsFormat.AgiCrcOffset, s => Be.Put32(s, 28, agi0.FreeCount - 1));
        rig.PatchSector(0, 0, XfsFormat.SuperblockCrcOffset, s =>
        {
            Be.Put64(s, 136, sb.IFree - 1);
            Be.Put64(s, 144, sb.FdBlocks - taken);
        });

        ulong leafFsb = rig.Inspect(r => r.Geometry.AgBlockToFsb(agno, leaf));
        ulong dataFsb = rig.Inspect(r => r.Geometry.AgBlockToFsb(agno, data));
        rig.PatchInode(ino, b =>
        {
            var d = XfsDinode.Decode(b);
            d.Mode = XfsDinode.TypeRegular | 0x1A4;
            d.Format = XfsDinodeFormat.Btree;
            d.AFormat = XfsDinodeFormat.Extents;
            d.Nlink = 1;
            d.Size = (2 * Extents - 1) * 4096UL;
            d.NBlocks = Extents + 1;
            if (shareFirstBlock)
                d.Flags2 |= XfsDiFlags2.Reflink;
            d.NExtents = Extents;
            d.NextUnlinked = XfsFormat.NullAgIno;
            var lit = new byte[d.Literal.Length];
            Be.Put16(lit, 0, 1);
            Be.Put16(lit, 2, 1);
            Be.Put64(lit, 4, 0);
            Be.Put64(lit, 4 + XfsBmdrBlock.MaxRecords(lit.Length) * 8, leafFsb);
            d.Literal = lit;
            d.WriteTo(b);
        });
        rig.Patch(rig.AgBlockOffset(agno, leaf), 4096, b =>
        {
            Array.Clear(b);
            Be.Put32(b, 0, XfsMagic.BmapBtree);
            Be.Put16(b, 4, 0);
            Be.Put16(b, 6, Extents);
            Be.Put64(b, 8, XfsBtreeLongBlock.NullFsBlock);
            Be.Put64(b, 16, XfsBtreeLongBlock.NullFsBlock);
            Be.Put64(b, 24, (ulong)rig.AgBlockOffset(agno, leaf) >> 9);
            Be.PutUuid(b, 40, sb.MetadataUuid);
            Be.Put64(b, 56, ino);
            for (int i = 0; i < Extents; i++)
            {
                ulong block = shareFirstBlock && i > 0 ? dataFsb + (ulong)i - 1 : dataFsb + (ulong)i;
                new XfsBmbtRecord(2UL * (ulong)i, block, 1, false).WriteTo(b.AsSpan(XfsBtreeLongBlock.HeaderSize + i * XfsBmbtRecord.Size));
            }
        }, XfsBtreeLongBlock.CrcOffset);

        if (shareFirstBlock)
        {
            rig.PatchBtreeBlock(agno, agf.RefcountRoot, b =>
            {
                Assert.That(Be.U16(b, 6), Is.Zero, "the builder adds the only refcount record");
                Be.Put16(b, 6, 1);
                new XfsRefcountRecord(data, 1, 2).WriteTo(b.AsSpan(XfsBtreeShortBlock.HeaderSize));
            });
        }

        // The root directory names it.
        rig.PatchInode(sb.RootIno, b =>
        {
            var root = XfsDinode.Decode(b);
            var dir = XfsDir2Shortform.ReadFrom(root.DataFork, root.Size, sb.RootIno);
            ushort offset = dir.Entries.Count == 0 ? XfsDir2Shortform.FirstOffset
                : (ushort)(dir.Entries[^1].Offset + XfsDir2Shortform.DataEntrySize(dir.Entries[^1].Name.Length));
            dir.Entries.Add(new XfsDir2SfEntry(System.Text.Encoding.UTF8.GetBytes(name), offset, XfsDirFileType.RegularFile, ino));
            var lit = new byte[root.Literal.Length];
            root.Size = (ulong)dir.WriteTo(lit);
            root.Literal = lit;
            root.WriteTo(b);
        });
        return new Result(ino, agno, leaf, data);
    }
}
