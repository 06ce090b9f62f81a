using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// What the phases of one check share: the reader, the geometry, the block owner map, the
/// per-AG findings later phases need, and the list of problems with the current phase.
/// </summary>
/// <remarks>Models xfs_repair's global state (the incore block map of repair/incore.c, the AG headers read in phase 2, the inode tree).</remarks>
internal sealed class XfsRepairContext
{
    private readonly List<XfsRepairProblem> _problems = [];
    private readonly int _maxProblems;
    private int _errors;

    public XfsRepairContext(XfsMetadataReader reader, XfsRepairOptions options)
    {
        Reader = reader;
        Options = options;
        _maxProblems = options.MaxProblems;
        Owners = new XfsBlockOwnerMap(reader.Geometry);
        Ags = new XfsAgFindings[reader.Geometry.AgCount];
        for (uint agno = 0; agno < Ags.Length; agno++)
            Ags[agno] = new XfsAgFindings(agno);
    }

    public XfsMetadataReader Reader { get; }

    public XfsRepairOptions Options { get; }

    public XfsGeometry Geometry => Reader.Geometry;

    public XfsSuperblock Superblock => Reader.Superblock;

    public XfsBlockOwnerMap Owners { get; }

    public XfsAgFindings[] Ags { get; }

    /// <summary>Allocated inodes found in phase 3, by inode number.</summary>
    public SortedDictionary<ulong, XfsInodeFindings> Inodes { get; } = [];

    /// <summary>Inodes the inode B+trees say are allocated but that could not be read or verified.</summary>
    public HashSet<ulong> BadInodes { get; } = [];

    /// <summary>Whether every allocated inode's forks were read whole, so every block a file owns is claimed.</summary>
    public bool ForksComplete { get; set; } = true;

    public int Phase { get; set; } = 1;

    public int Dropped { get; private set; }

    public bool HasReflink => (Superblock.FeaturesRoCompat & XfsRoCompatFeatures.Reflink) != 0;

    public bool HasFinobt => (Superblock.FeaturesRoCompat & XfsRoCompatFeatures.FinoBt) != 0;

    public bool HasInobtCount => (Superblock.FeaturesRoCompat & XfsRoCompatFeatures.InoBtCount) != 0;

    public void Error(string structure, string message)
    {
        if (_errors >= _maxProblems)
        {
            Dropped++;
            return;
        }
        _errors++;
        _problems.Add(new XfsRepairProblem(Phase, structure, message, XfsRepairSeverity.Error));
    }

    public void Error(XfsException e)
    {
        if (e is XfsCorruptionException c)
            Error(c.Structure, c.Problem);
        else
            Error("device", e.Message);
    }

    public void Note(string structure, string message) =>
        _problems.Add(new XfsRepairProblem(Phase, structure, message, XfsRepairSeverity.Note));

    public XfsRepairReport ToReport() => new([.. _problems], Dropped);
}
