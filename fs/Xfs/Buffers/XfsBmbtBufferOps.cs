using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// Verifier of a bmap B+tree block: <see cref="XfsBtreeLongBlock.ReadFrom(ReadOnlySpan{byte}, ulong, ulong, ulong?, Guid)"/>'s checks (magic,
/// CRC, self address, uuid, level, record count, siblings). The owner is checked by the bmap
/// code that knows which inode it walks.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_bmbt_buf_ops</c> (<c>xfs_bmbt_verify</c>, <c>xfs_btree_lblock_v5hdr_verify</c>).</remarks>
public sealed class XfsBmbtBufferOps : IXfsBufferOps
{
    public static readonly XfsBmbtBufferOps Instance = new();

    private XfsBmbtBufferOps()
    {
    }

    public string Name => "bmbt";

    public string Describe(XfsBuffer buffer) => $"bmbt block {buffer.AgNo}/{buffer.AgBno}";

    public void VerifyRead(XfsBuffer buffer)
    {
        var geo = buffer.Cache.Geometry;
        if (buffer.Length != geo.BlockSize)
            throw new XfsCorruptionException(Describe(buffer), $"a B+tree block is {geo.BlockSize} bytes, not {buffer.Length}");
        XfsBtreeLongBlock.ReadFrom(buffer.Data, geo.AgBlockToFsb(buffer.AgNo, buffer.AgBno), buffer.Daddr, null, buffer.Cache.MetadataUuid);
    }

    public void VerifyWrite(XfsBuffer buffer)
    {
        XfsCrc.Stamp(buffer.Data, XfsBtreeLongBlock.CrcOffset);
        VerifyRead(buffer);
    }
}
