using DaxStack.Fs.Xfs.Attr;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// Verifier of attribute leaf blocks: one filesystem block, magic, CRC, the filesystem's uuid,
/// the block's own address, and the leaf's structure (<see cref="XfsAttr3LeafBlock.Check"/>).
/// The owner is checked by the attribute code, which knows the inode.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_attr3_leaf_buf_ops</c> (<c>xfs_attr3_leaf_read_verify</c>, <c>xfs_attr3_leaf_write_verify</c>).</remarks>
public sealed class XfsAttr3LeafBufferOps : XfsDir3BufferOps
{
    /// <summary>The one instance.</summary>
    public static readonly XfsAttr3LeafBufferOps Instance = new();

    private XfsAttr3LeafBufferOps()
    {
    }

    /// <inheritdoc/>
    public override string Name => "attr3 leaf";

    /// <inheritdoc/>
    protected override int CrcOffset => XfsAttr3LeafBlock.CrcOffset;

    /// <inheritdoc/>
    protected override void CheckMagic(ReadOnlySpan<byte> block, string name)
    {
        ushort magic = Be.U16(block, 8);
        if (magic != XfsAttr3LeafBlock.Magic)
            throw XfsCorruptionException.BadMagic(name, magic, XfsAttr3LeafBlock.Magic);
    }

    /// <inheritdoc/>
    protected override (ulong Blkno, Guid Uuid) Parse(ReadOnlySpan<byte> block, string name)
    {
        if (XfsAttr3LeafBlock.Check(block) is { } problem)
            throw new XfsCorruptionException(name, problem);
        return (Be.U64(block, 16), Be.Uuid(block, 32));
    }
}
