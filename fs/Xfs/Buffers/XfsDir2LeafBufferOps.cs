using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>Verifier of the single leaf block of a leaf directory (LEAF1).</summary>
/// <remarks>Models the kernel's <c>xfs_dir3_leaf1_buf_ops</c> (xfs_dir2_leaf.c).</remarks>
public sealed class XfsDir2LeafBufferOps : XfsDir3BufferOps
{
    /// <summary>The one instance.</summary>
    public static readonly XfsDir2LeafBufferOps Instance = new();

    private XfsDir2LeafBufferOps()
    {
    }

    /// <inheritdoc/>
    public override string Name => "dir3 leaf1";

    /// <inheritdoc/>
    protected override int CrcOffset => XfsDir2Format.DaCrcOffset;

    /// <inheritdoc/>
    protected override void CheckMagic(ReadOnlySpan<byte> block, string name)
    {
        ushort magic = Be.U16(block, 8);
        if (magic != XfsDir2Format.Leaf1Magic)
            throw XfsCorruptionException.BadMagic(name, magic, XfsDir2Format.Leaf1Magic);
    }

    /// <inheritdoc/>
    protected override (ulong Blkno, Guid Uuid) Parse(ReadOnlySpan<byte> block, string name)
    {
        var l = XfsDir2LeafBlock.ReadFrom(block, name);
        return (l.Blkno, l.Uuid);
    }
}
