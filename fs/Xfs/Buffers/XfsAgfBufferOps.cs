using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>Verifier of an AGF sector: <see cref="XfsAgf.ReadFrom"/>'s checks, the AG's length and the filesystem's uuid.</summary>
/// <remarks>Models the kernel's <c>xfs_agf_buf_ops</c>.</remarks>
public sealed class XfsAgfBufferOps : XfsAgHeaderBufferOps
{
    public static readonly XfsAgfBufferOps Instance = new();

    private XfsAgfBufferOps()
        : base("agf", 1, XfsFormat.AgfCrcOffset)
    {
    }

    private protected override Guid VerifyStructure(XfsBuffer buffer, uint agno, XfsGeometry geo)
    {
        var agf = XfsAgf.ReadFrom(buffer.Data, agno, geo.AgflSize);
        if (agf.Length != geo.AgLength(agno))
            throw XfsCorruptionException.BadField($"agf {agno}", "length", agf.Length, $"AG {agno} has {geo.AgLength(agno)} blocks");
        return agf.Uuid;
    }
}
