using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>Verifier of an AGI sector: <see cref="XfsAgi.ReadFrom"/>'s checks, the AG's length and the filesystem's uuid.</summary>
/// <remarks>Models the kernel's <c>xfs_agi_buf_ops</c>.</remarks>
public sealed class XfsAgiBufferOps : XfsAgHeaderBufferOps
{
    public static readonly XfsAgiBufferOps Instance = new();

    private XfsAgiBufferOps()
        : base("agi", 2, XfsFormat.AgiCrcOffset)
    {
    }

    private protected override Guid VerifyStructure(XfsBuffer buffer, uint agno, XfsGeometry geo)
    {
        var agi = XfsAgi.ReadFrom(buffer.Data, agno);
        if (agi.Length != geo.AgLength(agno))
            throw XfsCorruptionException.BadField($"agi {agno}", "length", agi.Length, $"AG {agno} has {geo.AgLength(agno)} blocks");
        return agi.Uuid;
    }
}
