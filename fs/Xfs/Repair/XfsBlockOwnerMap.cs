using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// Who claims each block of the filesystem: per AG block, how many owners claimed it (AG
/// headers, free space, B+tree blocks, AGFL, inode chunks, the log, file forks), how many of
/// those are file data forks (the only owners that may share a block, through the reference-
/// count B+tree), and the first two owners for messages. Counts saturate at 255.
/// </summary>
/// <remarks>Models xfs_repair's incore block-state map (repair/incore.c <c>set_bmap_ext</c> / <c>get_bmap_ext</c>, states XR_E_FREE, XR_E_INUSE, XR_E_MULT, ...) with the owners kept for messages.</remarks>
internal sealed class XfsBlockOwnerMap
{
    private const int NoOwner = -1;
    private readonly XfsGeometry _geometry;
    private readonly byte[][] _count;
    private readonly byte[][] _data;
    private readonly int[][] _first;
    private readonly int[][] _second;
    private readonly List<string> _names = [];

    public XfsBlockOwnerMap(XfsGeometry geometry)
    {
        _geometry = geometry;
        _count = new byte[geometry.AgCount][];
        _data = new byte[geometry.AgCount][];
        _first = new int[geometry.AgCount][];
        _second = new int[geometry.AgCount][];
        for (uint agno = 0; agno < geometry.AgCount; agno++)
        {
            int length = (int)geometry.AgLength(agno);
            _count[agno] = new byte[length];
            _data[agno] = new byte[length];
            _first[agno] = new int[length];
            _second[agno] = new int[length];
            Array.Fill(_first[agno], NoOwner);
            Array.Fill(_second[agno], NoOwner);
        }
    }

    /// <summary>Registers an owner named <paramref name="name"/> in messages; <paramref name="dataFork"/> when it is a file's data fork.</summary>
    public int Register(string name, bool dataFork = false)
    {
        _names.Add(dataFork ? "\u0001" + name : name);
        return _names.Count - 1;
    }

    /// <summary>The owner's name.</summary>
    public string Name(int owner) => owner == NoOwner ? "nothing" : _names[owner].TrimStart('\u0001');

    private bool IsData(int owner) => _names[owner].StartsWith('\u0001');

    /// <summary>
    /// Claims AG blocks <paramref name="agbno"/> to <paramref name="agbno"/> + <paramref name="length"/> - 1
    /// of AG <paramref name="agno"/> for <paramref name="owner"/>; the part outside the AG is
    /// ignored (the caller reports it).
    /// </summary>
    public void Mark(uint agno, uint agbno, uint length, int owner)
    {
        if (agno >= _count.Length)
            return;
        var count = _count[agno];
        long end = Math.Min((long)agbno + length, count.Length);
        bool data = IsData(owner);
        for (long b = agbno; b < end; b++)
        {
            if (count[b] < byte.MaxValue)
                count[b]++;
            if (data && _data[agno][b] < byte.MaxValue)
                _data[agno][b]++;
            if (_first[agno][b] == NoOwner)
                _first[agno][b] = owner;
            else if (_second[agno][b] == NoOwner)
                _second[agno][b] = owner;
        }
    }

    /// <summary>Blocks in AG <paramref name="agno"/>.</summary>
    public int AgLength(uint agno) => _count[agno].Length;

    /// <summary>How many owners claim the block.</summary>
    public int Count(uint agno, uint agbno) => _count[agno][agbno];

    /// <summary>How many data forks claim the block.</summary>
    public int DataCount(uint agno, uint agbno) => _data[agno][agbno];

    /// <summary>The first and second owners of the block (<see cref="Name"/> gives "nothing" for none).</summary>
    public (int First, int Second) Owners(uint agno, uint agbno) => (_first[agno][agbno], _second[agno][agbno]);

    /// <summary>The geometry the map covers.</summary>
    public XfsGeometry Geometry => _geometry;
}
