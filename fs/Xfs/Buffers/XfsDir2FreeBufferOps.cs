using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>Verifier of the free-index blocks of a node directory ("XDF3").</summary>
/// <remarks>Models the kernel's <c>xfs_dir3_free_buf_ops</c> (xfs_dir2_node.c).</remarks>
public sealed class XfsDir2FreeBufferOps : XfsDir3BufferOps
{
    /// <summary>The one instance.</summary>
    public static readonly XfsDir2FreeBufferOps Instance = new();

    private XfsDir2FreeBufferOps()
    {
    }

    /// <inheritdoc/>
    public override string Name => "dir3 free";

    /// <inheritdoc/>
    protected override int CrcOffset => XfsDir2Format.DataCrcOffset;

    /// <inheritdoc/>
    protected override void CheckMagic(ReadOnlySpan<byte> block, string name)
    {
        uint magic = Be.U32(block, 0);
        if (magic != XfsDir2Format.FreeMagic)
            throw XfsCorruptionException.BadMagic(name, magic, XfsDir2Format.FreeMagic);
    }

    /// <inheritdoc/>
    protected override (ulong Blkno, Guid Uuid) Parse(ReadOnlySpan<byte> block, string name)
    {
        var f = XfsDir2FreeBlock.ReadFrom(block, name);
        return (f.Blkno, f.Uuid);
    }
}
