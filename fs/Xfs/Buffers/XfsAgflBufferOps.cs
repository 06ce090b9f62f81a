using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>Verifier of an AGFL sector: <see cref="XfsAgfl.ReadFrom"/>'s checks (every entry inside the AG) and the filesystem's uuid.</summary>
/// <remarks>Models the kernel's <c>xfs_agfl_buf_ops</c>.</remarks>
public sealed class XfsAgflBufferOps : XfsAgHeaderBufferOps
{
    public static readonly XfsAgflBufferOps Instance = new();

    private XfsAgflBufferOps()
        : base("agfl", 3, XfsFormat.AgflCrcOffset)
    {
    }

    private protected override Guid VerifyStructure(XfsBuffer buffer, uint agno, XfsGeometry geo) =>
        XfsAgfl.ReadFrom(buffer.Data, agno, geo.AgLength(agno)).Uuid;
}
