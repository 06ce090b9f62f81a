using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>What phase 2 learned about one AG that later phases use: its verified headers and the reference-count records.</summary>
/// <remarks>Models xfs_repair's per-AG state after phase 2 (the AGF/AGI it read and the refcount records it collected in repair/rmap.c).</remarks>
internal sealed class XfsAgFindings(uint agno)
{
    public uint AgNo { get; } = agno;

    /// <summary>The AGF, when it verified.</summary>
    public XfsAgf? Agf { get; set; }

    /// <summary>The AGI, when it verified.</summary>
    public XfsAgi? Agi { get; set; }

    /// <summary>Whether every structure that places blocks in this AG was read, so leaked blocks can be reported.</summary>
    public bool SpaceComplete { get; set; } = true;

    /// <summary>Whether the inode B+tree was read completely, so every allocated inode is known.</summary>
    public bool InodesComplete { get; set; } = true;

    /// <summary>The inode B+tree records in order.</summary>
    public List<XfsInobtRecord> InodeChunks { get; } = [];

    /// <summary>The reference-count records in order (CoW staging records included).</summary>
    public List<XfsRefcountRecord> RefcountRecords { get; } = [];

    /// <summary>Whether the reference-count B+tree was read completely.</summary>
    public bool RefcountComplete { get; set; } = true;
}
