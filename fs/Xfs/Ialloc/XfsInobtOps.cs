using System.Numerics;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Ialloc;

/// <summary>
/// The inode B+tree (<see cref="Ino"/>: one record per allocated 64-inode chunk) and the
/// free-inode B+tree (<see cref="Fino"/>: the same records, only for chunks with a free inode)
/// of an AG, keyed on the chunk's first inode. Roots and heights live in the AGI, and with
/// inobtcount so do their block counts; blocks come from the allocator near the block being
/// split and go back to it.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_ialloc_btree.c (<c>xfs_inobt_ops</c>, <c>xfs_finobt_ops</c>: <c>xfs_inobt_alloc_block</c>, <c>xfs_inobt_free_block</c>, <c>xfs_inobt_set_root</c>, <c>xfs_finobt_set_root</c>, <c>xfs_inobt_key_diff</c>) and the record checks of <c>xfs_inobt_check_irec</c>.</remarks>
public sealed class XfsInobtOps : XfsBtreeOps<XfsInobtRecord>
{
    /// <summary>The inode B+tree (inobt).</summary>
    public static readonly XfsInobtOps Ino = new(XfsBtreeKind.Ino);

    /// <summary>The free-inode B+tree (finobt).</summary>
    public static readonly XfsInobtOps Fino = new(XfsBtreeKind.Fino);

    private XfsInobtOps(XfsBtreeKind kind)
        : base(kind)
    {
    }

    public override XfsInobtRecord ReadRecord(ReadOnlySpan<byte> source) => XfsInobtRecord.ReadFrom(source);

    public override void WriteRecord(in XfsInobtRecord record, Span<byte> destination) => record.WriteTo(destination);

    public override void KeyFromRecord(ReadOnlySpan<byte> record, Span<byte> key) => record[..sizeof(uint)].CopyTo(key);

    public override long DiffKey(ReadOnlySpan<byte> key, in XfsInobtRecord search) => (long)Be.U32(key, 0) - search.StartIno;

    public override string? CheckRecord(in XfsInobtRecord record, uint agLength)
    {
        // The mount accepts only 4 KiB blocks of 512-byte inodes: a chunk starts a block.
        const int inodesPerBlock = XfsFormat.BlockSize / XfsFormat.InodeSize;
        if (record.StartIno % inodesPerBlock != 0)
            return "chunk does not start at the first inode of a block";
        if ((ulong)(record.StartIno / inodesPerBlock) + (uint)(XfsFormat.InodesPerChunk / inodesPerBlock) > agLength)
            return $"chunk outside the AG (length {agLength})";
        if (record.FreeCount > XfsFormat.InodesPerChunk)
            return $"free count {record.FreeCount} above {XfsFormat.InodesPerChunk}";
        if (BitOperations.PopCount(record.Free) != record.FreeCount)
            return $"free count {record.FreeCount} does not match the free mask 0x{record.Free:x16}";
        if (Kind == XfsBtreeKind.Fino && record.FreeCount == 0)
            return "free-inode B+tree record with no free inode";
        return null;
    }

    public override XfsBtreeRoot GetRoot(XfsTransaction tp, uint agno)
    {
        var agi = XfsAgHeaders.ReadAgi(tp, agno);
        if (Kind == XfsBtreeKind.Ino)
            return new XfsBtreeRoot(agi.Root, (int)agi.Level);
        if (!tp.Mount.HasFinobt)
            throw new InvalidOperationException("the filesystem has no free-inode B+tree (finobt=0)");
        return new XfsBtreeRoot(agi.FreeRoot, (int)agi.FreeLevel);
    }

    public override void SetRoot(XfsTransaction tp, uint agno, uint root, int levelChange)
    {
        var agi = XfsAgHeaders.ReadAgi(tp, agno);
        if (Kind == XfsBtreeKind.Ino)
        {
            agi.Root = root;
            agi.Level = (uint)(agi.Level + levelChange);
        }
        else
        {
            agi.FreeRoot = root;
            agi.FreeLevel = (uint)(agi.FreeLevel + levelChange);
        }
        XfsAgHeaders.WriteAgi(tp, agno, agi);
    }

    public override uint AllocBlock(XfsTransaction tp, uint agno, uint hint)
    {
        if (!XfsAlloc.TryAllocate(tp, XfsAllocRequest.Near(agno, hint, 1, 1), out var extent))
            return XfsFormat.NullAgBlock;
        CountBlocks(tp, agno, +1);
        return extent.AgBno;
    }

    public override void FreeBlock(XfsTransaction tp, uint agno, uint agbno)
    {
        XfsAlloc.Free(tp, agno, agbno, 1);
        CountBlocks(tp, agno, -1);
    }

    private void CountBlocks(XfsTransaction tp, uint agno, int delta)
    {
        if (!tp.Mount.HasInobtCount)
            return;
        var agi = XfsAgHeaders.ReadAgi(tp, agno);
        long value = (Kind == XfsBtreeKind.Ino ? agi.IBlocks : agi.FBlocks) + (long)delta;
        if (value < 1)
            throw new XfsCorruptionException($"agi {agno}", $"{Kind.Name()} block count would drop below the root");
        if (Kind == XfsBtreeKind.Ino)
            agi.IBlocks = (uint)value;
        else
            agi.FBlocks = (uint)value;
        XfsAgHeaders.WriteAgi(tp, agno, agi);
    }
}
