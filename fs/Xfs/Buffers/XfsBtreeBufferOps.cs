using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// Verifier of a block of one of the AG B+trees: <see cref="XfsBtreeShortBlock.ReadFrom"/>'s
/// checks (magic, CRC, self address, owner AG, level, record count, siblings) and the
/// filesystem's uuid. One instance per tree (<see cref="For"/>).
/// </summary>
/// <remarks>Models the kernel's <c>xfs_bnobt_buf_ops</c>, <c>xfs_cntbt_buf_ops</c>, <c>xfs_inobt_buf_ops</c>, <c>xfs_finobt_buf_ops</c> and <c>xfs_refcountbt_buf_ops</c> (<c>xfs_btree_sblock_v5hdr_verify</c>, <c>xfs_btree_sblock_verify</c>).</remarks>
public sealed class XfsBtreeBufferOps : IXfsBufferOps
{
    private static readonly XfsBtreeBufferOps[] Instances =
        [.. Enum.GetValues<XfsBtreeKind>().Select(k => new XfsBtreeBufferOps(k))];

    private XfsBtreeBufferOps(XfsBtreeKind kind)
    {
        Kind = kind;
    }

    /// <summary>The verifier of <paramref name="kind"/> blocks.</summary>
    public static XfsBtreeBufferOps For(XfsBtreeKind kind) => Instances[(int)kind];

    /// <summary>The tree whose blocks this verifier checks.</summary>
    public XfsBtreeKind Kind { get; }

    public string Name => Kind.Name();

    public string Describe(XfsBuffer buffer) => $"{Kind.Name()} block {buffer.AgNo}/{buffer.AgBno}";

    public void VerifyRead(XfsBuffer buffer)
    {
        var geo = buffer.Cache.Geometry;
        string name = Describe(buffer);
        if (buffer.Length != geo.BlockSize)
            throw new XfsCorruptionException(name, $"a B+tree block is {geo.BlockSize} bytes, not {buffer.Length}");
        var header = XfsBtreeShortBlock.ReadFrom(buffer.Data, Kind, buffer.AgNo, buffer.AgBno, buffer.Daddr);
        if (header.Uuid != buffer.Cache.MetadataUuid)
            throw new XfsCorruptionException(name, $"uuid {header.Uuid} is not the filesystem's {buffer.Cache.MetadataUuid}");
    }

    public void VerifyWrite(XfsBuffer buffer)
    {
        XfsCrc.Stamp(buffer.Data, XfsFormat.ShortBtreeCrcOffset);
        VerifyRead(buffer);
    }
}
