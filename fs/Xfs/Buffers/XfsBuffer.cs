using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// One cached metadata buffer: a run of 512-byte basic blocks starting at disk address
/// <see cref="Daddr"/>, its bytes, the verifier that says what it holds, and its state: dirty
/// (changed since it was last written) and stale (invalidated because its block was freed; it
/// is never written again). A transaction that joins the buffer holds it until it commits or
/// cancels. Callers change <see cref="Data"/> only inside a transaction and log what they
/// changed (<c>XfsTransaction.LogBuffer</c>); the CRC is stamped when the buffer is written.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_buf</c> (<c>b_maps[0].bm_bn</c>, <c>b_length</c>, <c>b_addr</c>, <c>b_ops</c>, <c>XBF_STALE</c>, <c>_XBF_DELWRI_Q</c>).</remarks>
public sealed class XfsBuffer
{
    internal XfsBuffer(XfsBufferCache cache, ulong daddr, int length, IXfsBufferOps ops)
    {
        Cache = cache;
        Daddr = daddr;
        Data = new byte[length];
        Ops = ops;
    }

    /// <summary>The cache the buffer lives in.</summary>
    public XfsBufferCache Cache { get; }

    /// <summary>The first 512-byte basic block (bm_bn).</summary>
    public ulong Daddr { get; }

    /// <summary>Bytes in the buffer.</summary>
    public int Length => Data.Length;

    /// <summary>Byte offset of the buffer on the device.</summary>
    public long Offset => (long)Daddr << XfsFormat.BasicBlockShift;

    /// <summary>The buffer's contents.</summary>
    public byte[] Data { get; }

    /// <summary>What the buffer holds and how it is verified.</summary>
    public IXfsBufferOps Ops { get; internal set; }

    /// <summary>Changed in memory since it was last written to the device.</summary>
    public bool IsDirty { get; internal set; }

    /// <summary>Invalidated: its block was freed, so it must never be written.</summary>
    public bool IsStale { get; internal set; }

    /// <summary>The AG the buffer lies in.</summary>
    public uint AgNo => Cache.Geometry.DaddrToAgno(Daddr);

    /// <summary>The AG block the buffer starts in.</summary>
    public uint AgBno => Cache.Geometry.DaddrToAgbno(Daddr);

    /// <summary>The structure's name for messages (<c>agf 1</c>, <c>bnobt block 0/12</c>).</summary>
    public string Name => Ops.Describe(this);

    /// <summary>The transaction holding the buffer, if any (the kernel's buffer lock).</summary>
    internal object? Holder { get; set; }

    internal LinkedListNode<XfsBuffer>? LruNode { get; set; }

    public override string ToString() => $"{Name} (daddr {Daddr}, {Length} bytes{(IsDirty ? ", dirty" : "")}{(IsStale ? ", stale" : "")})";
}
