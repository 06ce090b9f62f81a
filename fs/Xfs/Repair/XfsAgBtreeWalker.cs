using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// Walks one AG B+tree level by level from its root and checks its shape: every block verifies
/// (magic, CRC, self address, owner AG, uuid), sits at the level its parent implies (so every
/// leaf is at the same depth: the tree is balanced), has sibling pointers linking exactly the
/// blocks of its level in order, is not empty unless it is a leaf root, and holds keys in
/// strictly increasing order whose first matches the parent's key for it. Every block reached
/// is claimed in the owner map for the tree. Leaf records are returned for the caller's
/// record-level checks; their key order across the whole tree is checked here.
/// </summary>
/// <remarks>Models xfs_repair's <c>scan_sbtree</c> / <c>scan_lbtree</c> shape checks and the kernel's <c>xfs_btree_check_sblock</c> and key-order checks (<c>xfs_btree_keys_inorder</c>, <c>xfs_btree_recs_inorder</c>).</remarks>
internal static class XfsAgBtreeWalker
{
    public static XfsAgBtreeWalk Walk(XfsRepairContext ctx, XfsBtreeKind kind, uint agno, uint root, uint levels, int owner)
    {
        var walk = new XfsAgBtreeWalk();
        var geometry = ctx.Geometry;
        uint agLength = geometry.AgLength(agno);
        int keySize = kind.KeySize();
        int recSize = kind.RecordSize();
        var block = new byte[geometry.BlockSize];
        var visited = new HashSet<uint>();
        var level = new List<(uint Agbno, byte[]? Key)> { (root, null) };
        int expectedLevel = (int)levels - 1;
        byte[]? previousRecord = null;
        while (level.Count > 0 && expectedLevel >= 0)
        {
            var next = new List<(uint, byte[]?)>();
            for (int i = 0; i < level.Count; i++)
            {
                var (agbno, parentKey) = level[i];
                string name = $"{kind.Name()} block {agno}/{agbno}";
                if (agbno == 0 || agbno >= agLength)
                {
                    ctx.Error(name, $"pointer outside the AG (length {agLength})");
                    walk.Complete = false;
                    continue;
                }
                if (!visited.Add(agbno))
                {
                    ctx.Error(name, "reached twice in the tree (a cycle or a shared child)");
                    walk.Complete = false;
                    continue;
                }
                ctx.Owners.Mark(agno, agbno, 1, owner);
                walk.Blocks.Add(agbno);
                XfsBtreeShortBlock header;
                try
                {
                    header = ctx.Reader.ReadBtreeBlock(kind, agno, agbno, block);
                }
                catch (XfsException e)
                {
                    ctx.Error(e);
                    walk.Complete = false;
                    continue;
                }
                if (header.Level != expectedLevel)
                {
                    ctx.Error(name, $"level {header.Level} but its place in the tree is level {expectedLevel} (tree not balanced)");
                    walk.Complete = false;
                    continue;
                }
                uint left = i == 0 ? XfsFormat.NullAgBlock : level[i - 1].Agbno;
                uint right = i == level.Count - 1 ? XfsFormat.NullAgBlock : level[i + 1].Agbno;
                if (header.LeftSib != left || header.RightSib != right)
                    ctx.Error(name, $"siblings left {Sib(header.LeftSib)} right {Sib(header.RightSib)}, expected left {Sib(left)} right {Sib(right)}");
                bool isRoot = level.Count == 1 && parentKey == null;
                if (header.NumRecs == 0)
                {
                    if (!(isRoot && header.Level == 0))
                    {
                        ctx.Error(name, "empty block");
                        walk.Complete = false;
                    }
                    continue;
                }
                if (parentKey != null && Compare(kind, block.AsSpan(XfsBtreeShortBlock.HeaderSize, keySize), parentKey) != 0)
                    ctx.Error(name, $"first key {KeyText(kind, block.AsSpan(XfsBtreeShortBlock.HeaderSize, keySize))} does not match the parent's key {KeyText(kind, parentKey)}");
                if (header.Level == 0)
                {
                    for (int r = 0; r < header.NumRecs; r++)
                    {
                        var rec = block.AsSpan(XfsBtreeShortBlock.HeaderSize + r * recSize, recSize).ToArray();
                        if (previousRecord != null && Compare(kind, previousRecord, rec) >= 0)
                            ctx.Error(name, $"record {r} key {KeyText(kind, rec)} is not after the previous record's {KeyText(kind, previousRecord)}");
                        previousRecord = rec;
                        walk.Records.Add(rec);
                    }
                }
                else
                {
                    int max = kind.MaxRecords(geometry.BlockSize, leaf: false);
                    int ptrBase = XfsBtreeShortBlock.HeaderSize + max * keySize;
                    byte[]? previousKey = null;
                    for (int k = 0; k < header.NumRecs; k++)
                    {
                        var key = block.AsSpan(XfsBtreeShortBlock.HeaderSize + k * keySize, keySize).ToArray();
                        if (previousKey != null && Compare(kind, previousKey, key) >= 0)
                            ctx.Error(name, $"key {k} {KeyText(kind, key)} is not after key {k - 1} {KeyText(kind, previousKey)}");
                        previousKey = key;
                        next.Add((Be.U32(block, ptrBase + k * 4), key));
                    }
                }
            }
            level = next;
            expectedLevel--;
        }
        if (walk.Complete && walk.Blocks.Count == 0)
            walk.Complete = false;
        return walk;
    }

    private static string Sib(uint agbno) => agbno == XfsFormat.NullAgBlock ? "null" : agbno.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Compares the significant parts of two keys (or records) of <paramref name="kind"/>'s tree.</summary>
    public static int Compare(XfsBtreeKind kind, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => kind switch
    {
        XfsBtreeKind.Cnt => (Be.U32(a, 4), Be.U32(a, 0)).CompareTo((Be.U32(b, 4), Be.U32(b, 0))),
        _ => Be.U32(a, 0).CompareTo(Be.U32(b, 0)),
    };

    private static string KeyText(XfsBtreeKind kind, ReadOnlySpan<byte> key) => kind switch
    {
        XfsBtreeKind.Bno => $"[{Be.U32(key, 0)}]",
        XfsBtreeKind.Cnt => $"[{Be.U32(key, 0)},{Be.U32(key, 4)}]",
        _ => $"[{Be.U32(key, 0)}]",
    };
}
