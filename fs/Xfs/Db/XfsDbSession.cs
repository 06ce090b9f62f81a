using System.Globalization;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Db;

/// <summary>
/// An xfs_db-like inspection session over a filesystem: commands select a structure (<c>sb N</c>,
/// <c>agf N</c>, <c>agi N</c>, <c>agfl N</c>, <c>inode INO</c>) and <c>print</c> shows its fields,
/// or the named ones, as <c>name = value</c> lines. A structure that fails verification is
/// still shown (its CRC marked "(bad)") after a warning naming the problem. Read-only.
/// </summary>
/// <remarks>Models xfs_db's command loop and its <c>sb</c>, <c>agf</c>, <c>agi</c>, <c>agfl</c>, <c>inode</c>, <c>bmap</c> and <c>print</c> commands (db/command.c, db/sb.c, db/agf.c, db/agi.c, db/agfl.c, db/inode.c, db/print.c).</remarks>
public sealed class XfsDbSession(XfsMetadataReader reader, TextWriter output, TextWriter error)
{
    private IReadOnlyList<XfsDbField>? _current;
    private ulong? _currentInode;

    /// <summary>The command names and what they do, for <c>help</c>.</summary>
    public static IReadOnlyList<(string Command, string Help)> Commands { get; } =
    [
        ("bmap", "list the current inode's data fork extents (offset, start block, count, unwritten flag)"),
        ("sb [agno]", "set the current object to the superblock of an AG (default 0)"),
        ("agf [agno]", "set the current object to the AGF of an AG (default 0)"),
        ("agi [agno]", "set the current object to the AGI of an AG (default 0)"),
        ("agfl [agno]", "set the current object to the AGFL of an AG (default 0)"),
        ("inode [ino]", "set the current object to an inode (without a number: show the current one)"),
        ("print|p [field...]", "print the current object's fields, or the named ones"),
        ("help", "list the commands"),
    ];

    /// <summary>Runs one command line; false when it failed (the error is already written).</summary>
    public bool Execute(string commandLine)
    {
        var words = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0)
            return true;
        string command = words[0];
        var args = words[1..];
        try
        {
            switch (command)
            {
                case "sb":
                    return SelectAg(command, args, agno => Show(agno, 0, "sb", bytes =>
                    {
                        var sb = XfsSuperblock.Decode(bytes);
                        return XfsDbFields.Superblock(sb, bytes);
                    }, () => reader.ReadSuperblock(agno)));
                case "agf":
                    return SelectAg(command, args, agno => Show(agno, 1, "agf",
                        bytes => XfsDbFields.Agf(XfsAgf.Decode(bytes), reader.Superblock, bytes), () => reader.ReadAgf(agno)));
                case "agi":
                    return SelectAg(command, args, agno => Show(agno, 2, "agi",
                        bytes => XfsDbFields.Agi(XfsAgi.Decode(bytes), reader.Superblock, bytes), () => reader.ReadAgi(agno)));
                case "agfl":
                    return SelectAg(command, args, agno => Show(agno, 3, "agfl",
                        bytes => XfsDbFields.Agfl(XfsAgfl.Decode(bytes), bytes), () => reader.ReadAgfl(agno)));
                case "inode":
                    return SelectInode(args);
                case "bmap":
                    return Bmap(args);
                case "print" or "p":
                    return Print(args);
                case "help":
                    foreach (var (name, help) in Commands)
                        output.WriteLine($"{name} -- {help}");
                    return true;
                default:
                    return Fail($"command {command} not found");
            }
        }
        catch (XfsException e)
        {
            return Fail(e.Message);
        }
    }

    private bool SelectAg(string command, string[] args, Func<uint, bool> select)
    {
        uint agno = 0;
        if (args.Length > 1)
            return Fail($"{command}: too many arguments");
        if (args.Length == 1 && (!uint.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out agno) || agno >= reader.Geometry.AgCount))
            return Fail($"bad allocation group number {args[0]}");
        _currentInode = null;
        return select(agno);
    }

    private bool Show(uint agno, int sector, string kind, Func<byte[], IReadOnlyList<XfsDbField>> fields, Action verify)
    {
        var bytes = reader.ReadSector(agno, sector, $"{kind} {agno}");
        Verify(verify);
        _current = fields(bytes);
        return true;
    }

    private bool SelectInode(string[] args)
    {
        if (args.Length == 0)
        {
            if (_currentInode is ulong cur)
                output.WriteLine($"current inode number is {cur}");
            else
                output.WriteLine("no current inode");
            return true;
        }
        if (args.Length > 1)
            return Fail("inode: too many arguments");
        if (!ulong.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong ino) || !reader.Geometry.IsValidIno(ino))
            return Fail($"bad inode number {args[0]}");
        var bytes = reader.ReadInodeBytes(ino);
        Verify(() => reader.ReadInode(ino));
        _current = XfsDbFields.Inode(XfsDinode.Decode(bytes), bytes);
        _currentInode = ino;
        return true;
    }

    // xfs_db's bmap: the current inode's data fork extents, one line each.
    private bool Bmap(string[] args)
    {
        if (args.Length > 0)
            return Fail("bmap: options and ranges are not supported; it lists the whole data fork");
        if (_currentInode is not ulong ino)
            return Fail("bmap: no current inode");
        var inode = XfsDinode.Decode(reader.ReadInodeBytes(ino));
        var geo = reader.Geometry;
        var records = new List<XfsBmbtRecord>();
        switch (inode.Format)
        {
            case XfsDinodeFormat.Extents:
                records.AddRange(inode.ReadExtents());
                break;
            case XfsDinodeFormat.Btree:
                DaxStack.Fs.Xfs.Bmap.XfsBmbtTree.Load(inode.DataFork, ino, geo, reader.Superblock.MetadataUuid, fsb =>
                {
                    var block = reader.ReadFsBlock(fsb, $"bmbt block {fsb}");
                    if (!XfsCrc.Verify(block, XfsBtreeLongBlock.CrcOffset))
                        throw XfsCorruptionException.CrcMismatch($"bmbt block {fsb} of inode {ino}");
                    return block;
                }, records);
                break;
            default:
                return Fail($"bmap: inode {ino}'s data fork is {inode.Format}, not a block map");
        }
        foreach (var r in records)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"data offset {r.StartOff} startblock {r.StartBlock} ({geo.FsbToAgno(r.StartBlock)}/{geo.FsbToAgbno(r.StartBlock)}) count {r.BlockCount} flag {(r.Unwritten ? 1 : 0)}"));
        return true;
    }

    private void Verify(Action verify)
    {
        try
        {
            verify();
        }
        catch (XfsCorruptionException e)
        {
            // Like xfs_db: warn, then show the structure as it is.
            error.WriteLine($"db: {e.Message}");
        }
    }

    private bool Print(string[] names)
    {
        if (_current == null)
            return Fail("print: no current object: select one with sb, agf, agi, agfl or inode");
        if (names.Length == 0)
        {
            foreach (var f in _current)
                output.WriteLine(f);
            return true;
        }
        // Like xfs_db, every name must resolve before anything is printed.
        var selected = new List<XfsDbField>();
        foreach (var name in names)
        {
            var matches = _current.Where(f => f.Name == name || f.Name.StartsWith(name + "[", StringComparison.Ordinal)
                                              || f.Name.StartsWith(name + ".", StringComparison.Ordinal)).ToList();
            if (matches.Count == 0)
                return Fail($"field {name} not found");
            selected.AddRange(matches);
        }
        foreach (var f in selected)
            output.WriteLine(f);
        return true;
    }

    private bool Fail(string message)
    {
        error.WriteLine(message);
        return false;
    }
}
