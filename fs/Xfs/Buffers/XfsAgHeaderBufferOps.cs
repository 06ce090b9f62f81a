using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// What the AG header verifiers share: the buffer must be the expected sector of block 0 of its
/// AG (1 AGF, 2 AGI, 3 AGFL), one sector long, and the structure must carry the filesystem's
/// metadata uuid.
/// </summary>
/// <remarks>Models the common part of the kernel's <c>xfs_agf_verify</c>, <c>xfs_agi_verify</c> and <c>xfs_agfl_verify</c> (<c>XFS_AG_DADDR</c>, <c>xfs_verify_magic</c>, uuid checks).</remarks>
public abstract class XfsAgHeaderBufferOps : IXfsBufferOps
{
    private protected XfsAgHeaderBufferOps(string name, int sector, int crcOffset)
    {
        Name = name;
        Sector = sector;
        CrcOffset = crcOffset;
    }

    public string Name { get; }

    /// <summary>The header's sector in block 0 of its AG.</summary>
    public int Sector { get; }

    /// <summary>Where the header keeps its CRC.</summary>
    public int CrcOffset { get; }

    public string Describe(XfsBuffer buffer) => $"{Name} {buffer.AgNo}";

    public void VerifyRead(XfsBuffer buffer)
    {
        var geo = buffer.Cache.Geometry;
        uint agno = buffer.AgNo;
        string name = Describe(buffer);
        if (agno >= geo.AgCount || buffer.Daddr != geo.AgBlockToDaddr(agno, 0) + (ulong)Sector || buffer.Length != geo.SectorSize)
            throw new XfsCorruptionException(name, $"an {Name} is sector {Sector} of its AG, not {buffer.Length} bytes at daddr {buffer.Daddr}");
        Guid uuid = VerifyStructure(buffer, agno, geo);
        if (uuid != buffer.Cache.MetadataUuid)
            throw new XfsCorruptionException(name, $"uuid {uuid} is not the filesystem's {buffer.Cache.MetadataUuid}");
    }

    public void VerifyWrite(XfsBuffer buffer)
    {
        XfsCrc.Stamp(buffer.Data, CrcOffset);
        VerifyRead(buffer);
    }

    /// <summary>Runs the structure's own reader (magic, CRC, fields) and returns the uuid it carries.</summary>
    private protected abstract Guid VerifyStructure(XfsBuffer buffer, uint agno, XfsGeometry geo);
}
