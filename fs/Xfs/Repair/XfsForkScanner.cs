using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// Scans an inode fork in extents or btree format: every extent is non-empty, inside one AG of
/// the filesystem and after the previous one in file offset; a block-map B+tree is walked from
/// the root in the inode with every block verified (magic, CRC, self address, uuid, owner =
/// the inode), at the level its parent implies, with sibling pointers in order and keys
/// matching the children. Every block is claimed in the owner map for the inode.
/// </summary>
/// <remarks>Models xfs_repair's <c>process_exinode</c>, <c>process_btinode</c>, <c>scan_bmapbt</c> and <c>process_bmbt_reclist_int</c> (repair/dinode.c, repair/scan.c).</remarks>
internal static class XfsForkScanner
{
    /// <summary>Scans the fork held in <paramref name="fork"/> of format <paramref name="format"/> with <paramref name="nextents"/> extents claimed by di_nextents/di_anextents.</summary>
    public static XfsForkScan Scan(XfsRepairContext ctx, XfsDinode inode, string forkName, ReadOnlySpan<byte> fork, XfsDinodeFormat format, long nextents, int dataOwner, int btreeOwner)
    {
        var scan = new XfsForkScan();
        string name = $"inode {inode.Ino}";
        if (format == XfsDinodeFormat.Extents)
        {
            if (nextents * XfsBmbtRecord.Size > fork.Length)
            {
                ctx.Error(name, $"{forkName} fork claims {nextents} extents, the {fork.Length}-byte fork holds at most {fork.Length / XfsBmbtRecord.Size}");
                scan.Complete = false;
                return scan;
            }
            for (int i = 0; i < nextents; i++)
                scan.Extents.Add(XfsBmbtRecord.ReadFrom(fork.Slice(i * XfsBmbtRecord.Size, XfsBmbtRecord.Size)));
        }
        else if (format == XfsDinodeFormat.Btree)
        {
            XfsBmdrBlock root;
            try
            {
                root = XfsBmdrBlock.ReadFrom(fork, $"{name} {forkName} fork");
            }
            catch (XfsCorruptionException e)
            {
                ctx.Error(name, e.Problem);
                scan.Complete = false;
                return scan;
            }
            WalkBtree(ctx, inode.Ino, forkName, root, scan, btreeOwner);
        }
        CheckExtents(ctx, name, forkName, scan.Extents, dataOwner);
        return scan;
    }

    private static void CheckExtents(XfsRepairContext ctx, string name, string forkName, List<XfsBmbtRecord> extents, int owner)
    {
        var g = ctx.Geometry;
        ulong nextOff = 0;
        for (int i = 0; i < extents.Count; i++)
        {
            var e = extents[i];
            string what = $"{forkName} fork extent {i} [{e.StartOff},{e.StartBlock},{e.BlockCount}]";
            if (e.BlockCount == 0)
            {
                ctx.Error(name, $"{what} is empty");
                continue;
            }
            if (i > 0 && e.StartOff < nextOff)
                ctx.Error(name, $"{what} overlaps or is before the previous extent (which ends at file block {nextOff})");
            nextOff = e.StartOff + e.BlockCount;
            uint agno = g.FsbToAgno(e.StartBlock);
            uint agbno = g.FsbToAgbno(e.StartBlock);
            if (agno >= g.AgCount || agbno == 0 || (ulong)agbno + e.BlockCount > g.AgLength(agno))
            {
                ctx.Error(name, $"{what} maps blocks outside the filesystem's AGs");
                continue;
            }
            ctx.Owners.Mark(agno, agbno, e.BlockCount, owner);
        }
    }

    private static void WalkBtree(XfsRepairContext ctx, ulong ino, string forkName, XfsBmdrBlock root, XfsForkScan scan, int owner)
    {
        var g = ctx.Geometry;
        var block = new byte[g.BlockSize];
        var visited = new HashSet<ulong>();
        var level = new List<(ulong Fsb, ulong Key)>();
        for (int i = 0; i < root.Pointers.Count; i++)
        {
            if (i > 0 && root.Keys[i] <= root.Keys[i - 1])
                ctx.Error($"inode {ino}", $"{forkName} fork bmbt root key {i} {root.Keys[i]} is not after key {i - 1} {root.Keys[i - 1]}");
            level.Add((root.Pointers[i], root.Keys[i]));
        }
        int expectedLevel = root.Level - 1;
        ulong? previousOff = null;
        while (level.Count > 0 && expectedLevel >= 0)
        {
            var next = new List<(ulong, ulong)>();
            for (int i = 0; i < level.Count; i++)
            {
                var (fsb, parentKey) = level[i];
                string name = $"bmbt block {fsb} (inode {ino} {forkName} fork)";
                uint agno = g.FsbToAgno(fsb), agbno = g.FsbToAgbno(fsb);
                if (agno >= g.AgCount || agbno == 0 || agbno >= g.AgLength(agno))
                {
                    ctx.Error(name, "pointer outside the filesystem's AGs");
                    scan.Complete = false;
                    continue;
                }
                if (!visited.Add(fsb))
                {
                    ctx.Error(name, "reached twice in the tree (a cycle or a shared child)");
                    scan.Complete = false;
                    continue;
                }
                ctx.Owners.Mark(agno, agbno, 1, owner);
                scan.BtreeBlocks++;
                XfsBtreeLongBlock header;
                try
                {
                    ReadBlock(ctx, agno, agbno, block, name);
                    header = XfsBtreeLongBlock.ReadFrom(block, g.AgBlockToDaddr(agno, agbno), name);
                }
                catch (XfsException e)
                {
                    ctx.Error(e);
                    scan.Complete = false;
                    continue;
                }
                if (header.Uuid != ctx.Superblock.MetadataUuid)
                    ctx.Error(name, $"uuid {header.Uuid} is not the filesystem's {ctx.Superblock.MetadataUuid}");
                if (header.Owner != ino)
                    ctx.Error(name, $"owner {header.Owner} is not inode {ino}");
                if (header.Level != expectedLevel)
                {
                    ctx.Error(name, $"level {header.Level} but its place in the tree is level {expectedLevel} (tree not balanced)");
                    scan.Complete = false;
                    continue;
                }
                ulong left = i == 0 ? XfsBtreeLongBlock.NullFsBlock : level[i - 1].Fsb;
                ulong right = i == level.Count - 1 ? XfsBtreeLongBlock.NullFsBlock : level[i + 1].Fsb;
                if (header.LeftSib != left || header.RightSib != right)
                    ctx.Error(name, $"siblings left {Sib(header.LeftSib)} right {Sib(header.RightSib)}, expected left {Sib(left)} right {Sib(right)}");
                if (header.NumRecs == 0)
                {
                    ctx.Error(name, "empty block");
                    scan.Complete = false;
                    continue;
                }
                if (header.Level == 0)
                {
                    for (int r = 0; r < header.NumRecs; r++)
                    {
                        var rec = XfsBtreeLongBlock.Record(block, r);
                        if (r == 0 && rec.StartOff != parentKey)
                            ctx.Error(name, $"first record at file block {rec.StartOff} does not match the parent's key {parentKey}");
                        if (previousOff is { } p && rec.StartOff <= p)
                            ctx.Error(name, $"record {r} at file block {rec.StartOff} is not after the previous record's {p}");
                        previousOff = rec.StartOff;
                        scan.Extents.Add(rec);
                    }
                }
                else
                {
                    for (int k = 0; k < header.NumRecs; k++)
                    {
                        ulong key = XfsBtreeLongBlock.Key(block, k);
                        if (k == 0 && key != parentKey)
                            ctx.Error(name, $"first key {key} does not match the parent's key {parentKey}");
                        if (k > 0 && key <= XfsBtreeLongBlock.Key(block, k - 1))
                            ctx.Error(name, $"key {k} {key} is not after key {k - 1}");
                        next.Add((XfsBtreeLongBlock.Pointer(block, k), key));
                    }
                }
            }
            level = next;
            expectedLevel--;
        }
    }

    private static void ReadBlock(XfsRepairContext ctx, uint agno, uint agbno, byte[] block, string name)
    {
        var status = ctx.Reader.Device.Read(ctx.Geometry.AgBlockOffset(agno, agbno), block);
        if (status != BlkStatus.Ok)
            throw new XfsException(status.ToErrno(), $"{name}: read failed: {DaxStack.Device.Errors.ErrnoText.StrError(status.ToErrno())}");
    }

    private static string Sib(ulong fsb) => fsb == XfsBtreeLongBlock.NullFsBlock ? "null" : fsb.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
