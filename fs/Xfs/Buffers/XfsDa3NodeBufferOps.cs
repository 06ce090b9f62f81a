using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// Verifier of the blocks of a node directory's dabtree: interior nodes and the LEAFN leaves
/// below them (a dabtree position may hold either, so both magics are accepted).
/// </summary>
/// <remarks>Models the kernel's <c>xfs_da3_node_buf_ops</c>, whose verifier dispatches on the magic to <c>xfs_da3_node_verify</c> or <c>xfs_dir3_leafn_buf_ops</c> (xfs_da_btree.c).</remarks>
public sealed class XfsDa3NodeBufferOps : XfsDir3BufferOps
{
    /// <summary>The one instance.</summary>
    public static readonly XfsDa3NodeBufferOps Instance = new();

    private XfsDa3NodeBufferOps()
    {
    }

    /// <inheritdoc/>
    public override string Name => "dir3 dabtree block";

    /// <inheritdoc/>
    protected override int CrcOffset => XfsDir2Format.DaCrcOffset;

    /// <inheritdoc/>
    protected override void CheckMagic(ReadOnlySpan<byte> block, string name)
    {
        ushort magic = Be.U16(block, 8);
        if (magic is not (XfsDir2Format.NodeMagic or XfsDir2Format.LeafNMagic))
            throw XfsCorruptionException.BadMagic(name, magic, XfsDir2Format.NodeMagic);
    }

    /// <inheritdoc/>
    protected override (ulong Blkno, Guid Uuid) Parse(ReadOnlySpan<byte> block, string name)
    {
        if (Be.U16(block, 8) == XfsDir2Format.NodeMagic)
        {
            var n = XfsDa3NodeBlock.ReadFrom(block, name);
            return (n.Blkno, n.Uuid);
        }
        var l = XfsDir2LeafBlock.ReadFrom(block, name);
        return (l.Blkno, l.Uuid);
    }
}
