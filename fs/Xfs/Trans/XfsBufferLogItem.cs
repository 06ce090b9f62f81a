using DaxStack.Fs.Xfs.Buffers;

namespace DaxStack.Fs.Xfs.Trans;

/// <summary>
/// A buffer joined to a transaction: the byte ranges the transaction changed (sorted and
/// merged, what a journal writes as the buffer's log item), whether the transaction freed the
/// buffer's block (stale: the buffer must not be written) or created the buffer, and the
/// buffer's bytes and state as they were when it joined, so cancelling restores them exactly.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_buf_log_item</c> (<c>bli_formats</c> dirty map, <c>XFS_BLI_STALE</c>, <c>XFS_BLI_DIRTY</c>) plus the undo image XFS does not need (its cancel of a dirty transaction shuts the filesystem down instead).</remarks>
public sealed class XfsBufferLogItem
{
    private readonly List<XfsBufferRange> _ranges = [];

    internal XfsBufferLogItem(XfsBuffer buffer, bool created)
    {
        Buffer = buffer;
        IsNew = created;
        Before = (byte[])buffer.Data.Clone();
        WasDirty = buffer.IsDirty;
        WasStale = buffer.IsStale;
    }

    /// <summary>The buffer.</summary>
    public XfsBuffer Buffer { get; }

    /// <summary>The changed byte ranges, sorted by offset, none overlapping or touching.</summary>
    public IReadOnlyList<XfsBufferRange> Ranges => _ranges;

    /// <summary>Whether the transaction changed the buffer.</summary>
    public bool IsLogged => _ranges.Count > 0;

    /// <summary>The transaction freed the buffer's block: the buffer is dropped at commit, never written.</summary>
    public bool IsStale { get; internal set; }

    /// <summary>The transaction created the buffer (a newly allocated block), so it had no contents before.</summary>
    public bool IsNew { get; }

    /// <summary>The transaction got the buffer to initialise it (its whole contents are new), so a journal logs all of it.</summary>
    public bool IsInitialised { get; internal set; }

    /// <summary>The buffer's bytes as they were when it joined the transaction.</summary>
    internal byte[] Before { get; }

    internal bool WasDirty { get; }

    internal bool WasStale { get; }

    internal void AddRange(int offset, int length)
    {
        if (offset < 0 || length <= 0 || offset + length > Buffer.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes {offset}+{length} are not inside the {Buffer.Length}-byte buffer {Buffer.Name}");
        int start = offset, end = offset + length;
        int i = 0;
        while (i < _ranges.Count && _ranges[i].End < start)
            i++;
        // Absorb every range that overlaps or touches [start, end).
        while (i < _ranges.Count && _ranges[i].Offset <= end)
        {
            start = Math.Min(start, _ranges[i].Offset);
            end = Math.Max(end, _ranges[i].End);
            _ranges.RemoveAt(i);
        }
        _ranges.Insert(i, new XfsBufferRange(start, end - start));
    }

    internal void ClearRanges() => _ranges.Clear();
}
