using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// The directory checker: walks every block of a directory and reports every inconsistency it
/// finds as a message, without stopping at the first: bad magic numbers and CRCs, headers naming
/// another block, filesystem or owner, data blocks that fail their own checks (tags, free
/// regions, bestfree), leaf entries out of hash order, pointing at no entry or at an entry of
/// another hash, entries without a leaf entry, wrong stale counts and bests tables, dabtree nodes
/// whose hashes or levels are wrong, broken sibling links, free-index blocks that disagree with
/// the data blocks, blocks mapped where nothing should be, a wrong di_size, "." and ".." missing
/// or wrong, duplicate names, and inode numbers the caller says are invalid. It returns the
/// entries it could read so a checker can count links.
/// </summary>
/// <remarks>Models xfs_repair's directory checks (repair/dir2.c <c>process_dir2</c>, <c>process_block_dir2</c>, <c>process_leaf_node_dir2</c>, <c>process_dir2_data</c>; repair/phase6.c <c>longform_dir2_check_leaf</c>, <c>longform_dir2_check_node</c>, <c>shortform_dir2_entry_check</c>) and the kernel's <c>__xfs_dir3_data_check</c> / <c>xfs_dir3_leaf_check_int</c>.</remarks>
public static class XfsDirectoryCheck
{
    /// <summary>Checks directory <paramref name="dp"/> as the transaction sees it (cached buffers first, then the device).</summary>
    public static XfsDirectoryCheckResult Check(XfsTransaction tp, IXfsDirectoryInode dp, Func<ulong, bool>? isValidIno = null)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(dp);
        var geo = tp.Mount.Geometry;
        var map = new SortedDictionary<ulong, ulong>();
        if (dp.DataFormat != XfsDinodeFormat.Local)
        {
            ulong b = 0;
            while (dp.NextMappedBlock(tp, b) is ulong next)
            {
                if (dp.TryMapBlock(tp, next, out ulong fsb))
                    map[next] = fsb;
                b = next + 1;
            }
        }
        byte[] Read(ulong fsb)
        {
            ulong daddr = geo.AgBlockToDaddr(geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb));
            if (tp.Mount.Buffers.Find(daddr, geo.BlockSize) is { IsStale: false } bp)
                return (byte[])bp.Data.Clone();
            var data = new byte[geo.BlockSize];
            var status = tp.Mount.Device.Read(geo.FsbToOffset(fsb), data);
            if (status != BlkStatus.Ok)
                throw new XfsException(status.ToErrno(), $"directory inode {dp.Ino}: read of block {fsb} failed");
            return data;
        }
        var source = new XfsDirectorySource(dp.Ino, dp.DataFormat, dp.Size, dp.DataFormat == XfsDinodeFormat.Local ? dp.LocalData.ToArray() : [], map, Read, geo, tp.Mount.MetadataUuid);
        return Check(source, isValidIno);
    }

    /// <summary>Checks the directory <paramref name="source"/> describes.</summary>
    public static XfsDirectoryCheckResult Check(XfsDirectorySource source, Func<ulong, bool>? isValidIno = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var walk = new Walk(source, isValidIno);
        walk.Run();
        return walk.Result;
    }

    private sealed class Walk(XfsDirectorySource src, Func<ulong, bool>? isValidIno)
    {
        private readonly int _bs = src.Geometry.BlockSize;
        private readonly ulong _leafBlk = XfsDir2Format.LeafBlock(src.Geometry.BlockSize);
        private readonly ulong _freeBlk = XfsDir2Format.FreeBlock(src.Geometry.BlockSize);
        // dataptr -> hash of the name there, for the leaf checks; and which were referenced.
        private readonly Dictionary<uint, uint> _dataHashes = [];
        private readonly HashSet<uint> _referenced = [];
        private readonly Dictionary<ulong, int> _longest = [];

        public XfsDirectoryCheckResult Result { get; } = new();

        private string Dir => $"directory inode {src.Ino}";

        private void Problem(string message) => Result.Problems.Add($"{Dir}: {message}");

        public void Run()
        {
            if (src.Format == XfsDinodeFormat.Local)
            {
                Result.Form = XfsDir2Form.Shortform;
                Shortform();
            }
            else
            {
                Result.Form = FormFromMap();
                Blocks();
            }
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in Result.Entries)
            {
                string key = Convert.ToHexString(e.Name);
                if (!names.Add(key))
                    Problem($"name '{e.NameText}' appears more than once");
                if (isValidIno != null && !XfsDir2Format.IsDotOrDotDot(e.Name) && !isValidIno(e.Ino))
                    Problem($"entry '{e.NameText}' names inode {e.Ino}, which is not a valid inode");
            }
        }

        private XfsDir2Form FormFromMap()
        {
            if (src.Map.Count == 0)
                return XfsDir2Form.Block;
            ulong last = src.Map.Keys.Last();
            if (last == 0)
                return XfsDir2Form.Block;
            if (last == _leafBlk)
                return XfsDir2Form.Leaf;
            return XfsDir2Form.Node;
        }

        private void Shortform()
        {
            XfsDir2Shortform sf;
            try
            {
                sf = XfsDir2Shortform.ReadFrom(src.Local, src.Size, src.Ino, _bs);
            }
            catch (XfsCorruptionException e)
            {
                Problem(e.Message);
                return;
            }
            if (isValidIno != null && !isValidIno(sf.Parent))
                Problem($"'..' names inode {sf.Parent}, which is not a valid inode");
            Result.Entries.Add(new XfsDirEntry([(byte)'.'], src.Ino, XfsDirFileType.Directory, XfsDir2Format.DotOffset >> 3));
            Result.Entries.Add(new XfsDirEntry([(byte)'.', (byte)'.'], sf.Parent, XfsDirFileType.Directory, XfsDir2Format.DotDotOffset >> 3));
            foreach (var e in sf.Entries)
            {
                if (XfsDir2Format.IsDotOrDotDot(e.Name))
                    Problem($"short-form entry '{e.NameText}' is an explicit '.' or '..'");
                if (e.FileType == XfsDirFileType.Unknown)
                    Problem($"short-form entry '{e.NameText}' has no file type");
                Result.Entries.Add(new XfsDirEntry(e.Name, e.Ino, e.FileType, (uint)e.Offset >> 3));
            }
        }

        private byte[]? Read(ulong dablk, string what, int crcOffset)
        {
            ulong fsb = src.Map[dablk];
            if (!src.Geometry.IsValidFsb(fsb))
            {
                Problem($"{what} (directory block {dablk}) maps to block {fsb}, outside the filesystem");
                return null;
            }
            byte[] b;
            try
            {
                b = src.ReadBlock(fsb);
            }
            catch (XfsException e)
            {
                Problem($"{what} (directory block {dablk}): {e.Message}");
                return null;
            }
            if (!XfsCrc.Verify(b, crcOffset))
            {
                Problem($"{what} (directory block {dablk}): CRC mismatch");
                return null;
            }
            return b;
        }

        private void Header(string what, ulong dablk, ulong blkno, Guid uuid, ulong owner)
        {
            ulong fsb = src.Map[dablk];
            ulong daddr = src.Geometry.AgBlockToDaddr(src.Geometry.FsbToAgno(fsb), src.Geometry.FsbToAgbno(fsb));
            if (blkno != daddr)
                Problem($"{what} (directory block {dablk}) header blkno {blkno}, the block is at daddr {daddr}");
            if (uuid != src.Uuid)
                Problem($"{what} (directory block {dablk}) header uuid {uuid} is not the filesystem's");
            if (owner != src.Ino)
                Problem($"{what} (directory block {dablk}) header owner {owner} is not the directory");
        }

        private void Blocks()
        {
            var form = Result.Form;
            ulong lastDb = 0;
            bool anyData = false;
            foreach (ulong dablk in src.Map.Keys)
            {
                if (dablk < _leafBlk)
                {
                    DataBlock(dablk, form == XfsDir2Form.Block);
                    lastDb = dablk;
                    anyData = true;
                }
            }
            if (!anyData)
            {
                Problem("the directory has no data blocks");
                return;
            }
            if (!src.Map.ContainsKey(0))
                Problem("data block 0 (with '.' and '..') is not mapped");
            ulong wantSize = (lastDb + 1) * (ulong)_bs;
            if (src.Size != wantSize)
                Problem($"di_size {src.Size}, the data blocks end at {wantSize}");
            if (form == XfsDir2Form.Leaf)
                Leaf1(lastDb);
            else if (form == XfsDir2Form.Node)
                Node();
            foreach (var (dataptr, _) in _dataHashes)
            {
                if (!_referenced.Contains(dataptr))
                    Problem($"data entry at dataptr {dataptr} has no leaf entry");
            }
        }

        private void DataBlock(ulong db, bool blockForm)
        {
            string what = blockForm ? "block-form block" : $"data block {db}";
            var b = Read(db, what, XfsDir2Format.DataCrcOffset);
            if (b == null)
                return;
            XfsDir2DataBlock d;
            try
            {
                d = XfsDir2DataBlock.ReadFrom(b, what);
            }
            catch (XfsCorruptionException e)
            {
                Problem(e.Message);
                return;
            }
            if (d.IsBlockForm != blockForm)
                Problem($"{what} has magic {(d.IsBlockForm ? "XDB3" : "XDD3")} in a {Result.Form} directory");
            Header(what, db, d.Blkno, d.Uuid, d.Owner);
            _longest[db] = d.LongestFree;
            if (db == 0)
            {
                bool dot = d.Entries.Count > 0 && d.Entries[0] is { Offset: XfsDir2Format.DotOffset, Name: [(byte)'.'] };
                bool dotdot = d.Entries.Count > 1 && d.Entries[1] is { Offset: XfsDir2Format.DotDotOffset, Name: [(byte)'.', (byte)'.'] };
                if (!dot)
                    Problem($"{what} does not start with '.'");
                else if (d.Entries[0].Ino != src.Ino)
                    Problem($"'.' names inode {d.Entries[0].Ino}, not the directory");
                if (!dotdot)
                    Problem($"{what} has no '..' after '.'");
                else if (isValidIno != null && !isValidIno(d.Entries[1].Ino))
                    Problem($"'..' names inode {d.Entries[1].Ino}, which is not a valid inode");
            }
            foreach (var e in d.Entries)
            {
                bool expectedDot = db == 0 && e.Offset is XfsDir2Format.DotOffset or XfsDir2Format.DotDotOffset;
                if (XfsDir2Format.IsDotOrDotDot(e.Name) && !expectedDot)
                    Problem($"{what} has a stray '{e.NameText}' entry at {e.Offset}");
                if (e.FileType == XfsDirFileType.Unknown)
                    Problem($"{what} entry '{e.NameText}' has no file type");
                uint dataptr = XfsDir2Format.Dataptr(db, e.Offset, _bs);
                _dataHashes[dataptr] = XfsDaHash.HashName(e.Name);
                Result.Entries.Add(new XfsDirEntry(e.Name, e.Ino, e.FileType, dataptr));
            }
            if (blockForm)
            {
                // The block's own check matched every entry with a live leaf entry.
                foreach (var le in d.Leaf)
                {
                    if (!le.IsStale)
                        _referenced.Add(le.Address);
                }
            }
        }

        private void LeafEntries(string what, IEnumerable<XfsDir2LeafEntry> entries)
        {
            foreach (var le in entries)
            {
                if (le.IsStale)
                    continue;
                if (!_dataHashes.TryGetValue(le.Address, out uint hash))
                {
                    Problem($"{what} entry (0x{le.Hash:x}, {le.Address}) points at no data entry");
                    continue;
                }
                if (hash != le.Hash)
                    Problem($"{what} entry (0x{le.Hash:x}, {le.Address}) has hash 0x{le.Hash:x}, the name's is 0x{hash:x}");
                if (!_referenced.Add(le.Address))
                    Problem($"{what} entry (0x{le.Hash:x}, {le.Address}) points at an entry another leaf entry points at");
            }
        }

        private void Bests(string what, IReadOnlyList<ushort> bests, int firstDb)
        {
            for (int i = 0; i < bests.Count; i++)
            {
                ulong db = (ulong)(firstDb + i);
                bool mapped = src.Map.ContainsKey(db) && db < _leafBlk;
                if (!mapped)
                {
                    if (bests[i] != XfsDir2Format.NullDataOff)
                        Problem($"{what} bests[{i}] is {bests[i]} for the unmapped data block {db}");
                }
                else if (_longest.TryGetValue(db, out int longest) && bests[i] != longest)
                {
                    Problem($"{what} bests[{i}] is {bests[i]}, data block {db}'s longest free region is {longest}");
                }
            }
        }

        private void Leaf1(ulong lastDb)
        {
            var b = Read(_leafBlk, "leaf block", XfsDir2Format.DaCrcOffset);
            if (b == null)
                return;
            XfsDir2LeafBlock leaf;
            try
            {
                leaf = XfsDir2LeafBlock.ReadFrom(b, "leaf block");
            }
            catch (XfsCorruptionException e)
            {
                Problem(e.Message);
                return;
            }
            if (leaf.IsLeafN)
                Problem("leaf block has the LEAFN magic in a leaf directory");
            Header("leaf block", _leafBlk, leaf.Blkno, leaf.Uuid, leaf.Owner);
            if (leaf.Forw != 0 || leaf.Back != 0)
                Problem($"leaf block has sibling links {leaf.Back}/{leaf.Forw}");
            if (leaf.Bests.Count != (int)lastDb + 1)
                Problem($"leaf block bestcount {leaf.Bests.Count}, the last data block is {lastDb}");
            Bests("leaf block", leaf.Bests, 0);
            LeafEntries("leaf block", leaf.Entries);
        }

        private void Node()
        {
            var levels = new SortedDictionary<int, List<(ulong Dablk, uint Back, uint Forw)>>();
            var visited = new HashSet<ulong>();
            uint lastLeafHash = 0;
            WalkDa(_leafBlk, -1, 0, levels, visited, ref lastLeafHash);
            foreach (var (level, blocks) in levels)
            {
                for (int i = 0; i < blocks.Count; i++)
                {
                    uint wantBack = i == 0 ? 0 : (uint)blocks[i - 1].Dablk;
                    uint wantForw = i == blocks.Count - 1 ? 0 : (uint)blocks[i + 1].Dablk;
                    if (blocks[i].Back != wantBack || blocks[i].Forw != wantForw)
                        Problem($"dabtree block {blocks[i].Dablk} (level {level}) sibling links {blocks[i].Back}/{blocks[i].Forw}, expected {wantBack}/{wantForw}");
                }
            }
            foreach (ulong dablk in src.Map.Keys)
            {
                if (dablk > _leafBlk && dablk < _freeBlk && !visited.Contains(dablk))
                    Problem($"directory block {dablk} in the leaf space is not in the dabtree");
            }
            var covered = new HashSet<ulong>();
            int max = XfsDir2Format.FreeMaxBests(_bs);
            foreach (ulong fdb in src.Map.Keys.Where(k => k >= _freeBlk))
            {
                string what = $"free block {fdb}";
                var b = Read(fdb, what, XfsDir2Format.DataCrcOffset);
                if (b == null)
                    continue;
                XfsDir2FreeBlock free;
                try
                {
                    free = XfsDir2FreeBlock.ReadFrom(b, what);
                }
                catch (XfsCorruptionException e)
                {
                    Problem(e.Message);
                    continue;
                }
                Header(what, fdb, free.Blkno, free.Uuid, free.Owner);
                long wantFirst = (long)(fdb - _freeBlk) * max;
                if (free.FirstDb != wantFirst)
                    Problem($"{what} firstdb {free.FirstDb}, expected {wantFirst}");
                if (free.StoredNUsed != free.NUsed)
                    Problem($"{what} nused {free.StoredNUsed}, {free.NUsed} bests name data blocks");
                Bests(what, free.Bests, free.FirstDb);
                for (int i = 0; i < free.Bests.Count; i++)
                    covered.Add((ulong)(free.FirstDb + i));
            }
            foreach (ulong db in src.Map.Keys.Where(k => k < _leafBlk))
            {
                if (!covered.Contains(db))
                    Problem($"data block {db} has no free-index entry");
            }
        }

        private uint WalkDa(ulong dablk, int expectLevel, int depth, SortedDictionary<int, List<(ulong, uint, uint)>> levels, HashSet<ulong> visited, ref uint lastLeafHash)
        {
            string what = $"dabtree block {dablk}";
            if (depth > XfsDir2Format.MaxDepth || !visited.Add(dablk))
            {
                Problem($"{what} is reached twice or lies deeper than {XfsDir2Format.MaxDepth} levels");
                return 0;
            }
            if (!src.Map.ContainsKey(dablk))
            {
                Problem($"{what} is not mapped");
                return 0;
            }
            var b = Read(dablk, what, XfsDir2Format.DaCrcOffset);
            if (b == null)
                return 0;
            ushort magic = (ushort)((b[8] << 8) | b[9]);
            try
            {
                if (magic == XfsDir2Format.LeafNMagic || magic == XfsDir2Format.Leaf1Magic)
                {
                    var leaf = XfsDir2LeafBlock.ReadFrom(b, what);
                    if (!leaf.IsLeafN)
                        Problem($"{what} is a LEAF1 block in a node directory");
                    if (expectLevel > 0)
                        Problem($"{what} is a leaf where a level {expectLevel} node belongs");
                    Header(what, dablk, leaf.Blkno, leaf.Uuid, leaf.Owner);
                    Add(levels, 0, (dablk, leaf.Back, leaf.Forw));
                    if (leaf.Entries.Count > 0 && leaf.Entries[0].Hash < lastLeafHash)
                        Problem($"{what} starts with hash 0x{leaf.Entries[0].Hash:x}, below the previous leaf's 0x{lastLeafHash:x}");
                    if (leaf.Entries.Count > 0)
                        lastLeafHash = leaf.LastHash;
                    LeafEntries(what, leaf.Entries);
                    return leaf.LastHash;
                }
                var node = XfsDa3NodeBlock.ReadFrom(b, what);
                Header(what, dablk, node.Blkno, node.Uuid, node.Owner);
                if (expectLevel >= 0 && node.Level != expectLevel)
                    Problem($"{what} has level {node.Level}, expected {expectLevel}");
                Add(levels, node.Level, (dablk, node.Back, node.Forw));
                uint previous = 0;
                for (int i = 0; i < node.Entries.Count; i++)
                {
                    var e = node.Entries[i];
                    if (e.Hash < previous)
                        Problem($"{what} entry {i} hash 0x{e.Hash:x} is below the previous 0x{previous:x}");
                    previous = e.Hash;
                    if (e.Before <= _leafBlk || e.Before >= _freeBlk)
                    {
                        Problem($"{what} entry {i} points at block {e.Before}, outside the leaf space");
                        continue;
                    }
                    uint childLast = WalkDa(e.Before, node.Level - 1, depth + 1, levels, visited, ref lastLeafHash);
                    if (childLast != e.Hash)
                        Problem($"{what} entry {i} hash 0x{e.Hash:x}, its child {e.Before} ends with 0x{childLast:x}");
                }
                return node.Entries[^1].Hash;
            }
            catch (XfsCorruptionException ex)
            {
                Problem(ex.Message);
                return 0;
            }
        }

        private static void Add(SortedDictionary<int, List<(ulong, uint, uint)>> levels, int level, (ulong, uint, uint) block)
        {
            if (!levels.TryGetValue(level, out var list))
                levels[level] = list = [];
            list.Add(block);
        }
    }
}
