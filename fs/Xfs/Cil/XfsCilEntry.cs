using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.Log;

namespace DaxStack.Fs.Xfs.Cil;

/// <summary>
/// One committed transaction held by the CIL: its commit sequence, the log transaction (the
/// logged ranges with their new bytes, copied at commit), for each range the buffer it belongs
/// to and the bytes it held before, and the log LSN of its start once it has been appended.
/// </summary>
/// <remarks>Models a checkpoint context's log vectors (<c>struct xfs_log_vec</c> chain of <c>struct xfs_cil_ctx</c>) plus the undo bytes that let a checkpoint write a buffer as of the forced state.</remarks>
internal sealed class XfsCilEntry
{
    public XfsCilEntry(long sequence, XlogTransaction transaction, XfsBuffer[] buffers, byte[][] before)
    {
        Sequence = sequence;
        Transaction = transaction;
        Buffers = buffers;
        Before = before;
        Bytes = transaction.Regions.Sum(r => (long)r.Bytes.Length + XlogRegion.HeaderSize)
            + (long)transaction.BufferCancels.Count * XlogRegion.HeaderSize;
    }

    public long Sequence { get; }

    public XlogTransaction Transaction { get; }

    /// <summary>Per region, the buffer it patches.</summary>
    public XfsBuffer[] Buffers { get; }

    /// <summary>Per region, the bytes the range held before the transaction.</summary>
    public byte[][] Before { get; }

    /// <summary>Bytes the entry takes in the log (regions and cancels with their headers).</summary>
    public long Bytes { get; }

    /// <summary>LSN of the record holding its start operation, once appended to the log.</summary>
    public ulong? StartLsn { get; set; }
}
