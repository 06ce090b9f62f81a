using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>Verifier of directory data blocks: <see cref="Block"/> for "XDB3" single-block directories, <see cref="Data"/> for "XDD3" data blocks.</summary>
/// <remarks>Models the kernel's <c>xfs_dir3_block_buf_ops</c> and <c>xfs_dir3_data_buf_ops</c> (xfs_dir2_block.c, xfs_dir2_data.c).</remarks>
public sealed class XfsDir2DataBufferOps : XfsDir3BufferOps
{
    /// <summary>The verifier of "XDB3" blocks.</summary>
    public static readonly XfsDir2DataBufferOps Block = new(XfsDir2Format.BlockMagic, "dir3 block");

    /// <summary>The verifier of "XDD3" blocks.</summary>
    public static readonly XfsDir2DataBufferOps Data = new(XfsDir2Format.DataMagic, "dir3 data");

    private readonly uint _magic;

    private XfsDir2DataBufferOps(uint magic, string name)
    {
        _magic = magic;
        Name = name;
    }

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    protected override int CrcOffset => XfsDir2Format.DataCrcOffset;

    /// <inheritdoc/>
    protected override void CheckMagic(ReadOnlySpan<byte> block, string name)
    {
        uint magic = Be.U32(block, 0);
        if (magic != _magic)
            throw XfsCorruptionException.BadMagic(name, magic, _magic);
    }

    /// <inheritdoc/>
    protected override (ulong Blkno, Guid Uuid) Parse(ReadOnlySpan<byte> block, string name)
    {
        var d = XfsDir2DataBlock.ReadFrom(block, name);
        return (d.Blkno, d.Uuid);
    }
}
