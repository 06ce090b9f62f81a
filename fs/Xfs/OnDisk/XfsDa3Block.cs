namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// A block of a directory's dabtree level (a node or a leaf): the self-describing fields plus the
/// links to its siblings on the same level, all in the 56-byte header every such block starts with.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_da3_blkinfo</c> (forw, back, magic, pad, crc, blkno, lsn, uuid, owner; xfs_da_format.h).</remarks>
public abstract class XfsDa3Block : XfsDir3Block
{
    /// <summary>A block of <paramref name="blockSize"/> bytes.</summary>
    protected XfsDa3Block(int blockSize)
        : base(blockSize)
    {
    }

    /// <summary>forw: the next block on this level (directory block number, 0 for none).</summary>
    public uint Forw { get; set; }

    /// <summary>back: the previous block on this level (directory block number, 0 for none).</summary>
    public uint Back { get; set; }

    /// <summary>The 16-bit magic of a da3 block (caller checks it against what it expects).</summary>
    protected static ushort ReadMagic(ReadOnlySpan<byte> b) => Be.U16(b, 8);

    /// <summary>Reads the sibling links and the self-describing fields of the header.</summary>
    protected void ReadInfo(ReadOnlySpan<byte> b)
    {
        Forw = Be.U32(b, 0);
        Back = Be.U32(b, 4);
        ReadSelfDescription(b, 16);
    }

    /// <summary>Writes the header with <paramref name="magic"/> (the CRC stays zero; the write verifier stamps it).</summary>
    protected void WriteInfo(Span<byte> b, ushort magic)
    {
        Be.Put32(b, 0, Forw);
        Be.Put32(b, 4, Back);
        Be.Put16(b, 8, magic);
        WriteSelfDescription(b, 16);
    }
}
