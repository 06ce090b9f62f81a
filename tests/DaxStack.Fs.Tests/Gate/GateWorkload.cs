using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Super;
using DaxStack.Fs.Xfs.Trans;
using VfsTree = DaxStack.Fs.Vfs.Vfs;

namespace DaxStack.Fs.Tests.Gate;

/// <summary>
/// The gate's workload: on an image our mkfs made, mounts the filesystem through the VFS and,
/// as root, makes short-form, block and leaf directories and nested trees, files fragmented
/// into many extents, reflinked files, truncates, unlinks, renames, hard links and
/// preallocations; then closes every file and unmounts cleanly (put_super).
/// </summary>
/// <remarks>The kind of mixed namespace and space workload fstests runs before its <c>_check_scratch_fs</c> (xfs_repair -n) step.</remarks>
internal sealed class GateWorkload
{
    private const int Bs = 4096;
    private const uint Mode644 = 0x1A4;
    private const uint Mode755 = 0x1ED;

    private readonly Process _p;
    private readonly Random _rng = new(4);

    private GateWorkload(Process p) => _p = p;

    /// <summary>Inode of the file written every other block.</summary>
    public long FragmentedIno { get; private set; }

    /// <summary>Inode of a file with a handful of extents (kept in the inode's fork).</summary>
    public long FewExtentsIno { get; private set; }

    /// <summary>Inode of the leaf-format directory.</summary>
    public long LeafDirIno { get; private set; }

    /// <summary>Inode of the block-format directory.</summary>
    public long BlockDirIno { get; private set; }

    /// <summary>Inode of the short-form directory.</summary>
    public long ShortformDirIno { get; private set; }

    /// <summary>Inodes left with extended attributes (files and directories of every shape).</summary>
    public List<long> AttrInodes { get; } = [];

    /// <summary>Files and directories the workload created (unlinked ones included).</summary>
    public int Created { get; private set; }

    /// <summary>
    /// Runs the workload on the filesystem on <paramref name="device"/>: <paramref name="scale"/>
    /// 1 is the full gate (a few hundred names, a file of <paramref name="fragments"/> extents).
    /// </summary>
    public static GateWorkload Run(FsTestDevice device, int scale, int fragments)
    {
        var type = new XfsFileSystemType(device.Device, new XfsMountOptions { GenerationSeed = 3 });
        var tree = new VfsTree(type);
        var w = new GateWorkload(tree.CreateProcess(Credentials.Root));
        try
        {
            w.Populate(scale, fragments);
        }
        finally
        {
            w._p.Dispose();
        }
        type.Super!.Sb.Operations.PutSuper();
        return w;
    }

    private void Write(string path, int blocks, byte seed)
    {
        int fd = _p.Open(path, OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_TRUNC, Mode644);
        var data = new byte[Bs];
        for (int b = 0; b < blocks; b++)
        {
            Array.Fill(data, (byte)(seed + b));
            Assert.That(_p.Pwrite(fd, data, (long)b * Bs), Is.EqualTo(Bs));
        }
        _p.Close(fd);
        Created++;
    }

    private void Touch(string path, int bytes)
    {
        int fd = _p.Creat(path, Mode644);
        if (bytes > 0)
        {
            var data = new byte[bytes];
            _rng.NextBytes(data);
            Assert.That(_p.Write(fd, data), Is.EqualTo(bytes));
        }
        _p.Close(fd);
        Created++;
    }

    private void Mkdir(string path)
    {
        _p.Mkdir(path, Mode755);
        Created++;
    }

    private void Populate(int scale, int fragments)
    {
        // Short-form directories: a few short names each, nested.
        Mkdir("/sf");
        for (int i = 0; i < 4; i++)
        {
            Mkdir($"/sf/d{i}");
            for (int j = 0; j < 3; j++)
                Touch($"/sf/d{i}/f{j}", 100 * j);
        }
        // A block directory: a few dozen entries.
        Mkdir("/blk");
        for (int i = 0; i < 40 / scale; i++)
            Touch($"/blk/file_{i:D3}", i % 3 == 0 ? 5000 : 17);
        // A leaf directory: long names beyond one block.
        Mkdir("/leaf");
        for (int i = 0; i < 160 / scale; i++)
            Touch($"/leaf/a_rather_long_file_name_to_fill_blocks_{i:D4}", 0);
        LeafDirIno = _p.Stat("/leaf").Ino;
        BlockDirIno = _p.Stat("/blk").Ino;
        ShortformDirIno = _p.Stat("/sf").Ino;

        // Fragmented files: every other block written.
        int fd = _p.Open("/frag", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Created++;
        var block = new byte[Bs];
        for (int i = 0; i < fragments; i++)
        {
            Array.Fill(block, (byte)i);
            Assert.That(_p.Pwrite(fd, block, 2L * i * Bs), Is.EqualTo(Bs));
        }
        _p.Close(fd);
        FragmentedIno = _p.Stat("/frag").Ino;
        fd = _p.Open("/few", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Created++;
        for (int i = 0; i < 6; i++)
            Assert.That(_p.Pwrite(fd, block, 3L * i * Bs), Is.EqualTo(Bs));
        _p.Close(fd);
        FewExtentsIno = _p.Stat("/few").Ino;

        // Reflinks: a whole-file clone and a range clone, then a write into the clone (copy on write).
        Write("/src", 32, 9);
        int src = _p.Open("/src", OpenFlags.O_RDONLY);
        int whole = _p.Open("/clone", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        int part = _p.Open("/part", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Created += 2;
        _p.Ficlone(whole, src);
        _p.FicloneRange(part, src, 8 * Bs, 8 * Bs, 4 * Bs);
        Array.Fill(block, (byte)0xEE);
        Assert.That(_p.Pwrite(whole, block, 3 * Bs), Is.EqualTo(Bs));
        _p.Close(src);
        _p.Close(whole);
        _p.Close(part);
        // The source is then cut short: the clone keeps the shared blocks.
        _p.Truncate("/src", 5 * Bs + 100);

        // Truncates: down into the middle of the fragmented range, up past EOF, to zero.
        Write("/trunc_down", 20, 1);
        _p.Truncate("/trunc_down", 7 * Bs + 1);
        Write("/trunc_up", 2, 2);
        _p.Truncate("/trunc_up", 50 * Bs);
        Write("/trunc_zero", 4, 3);
        _p.Truncate("/trunc_zero", 0);

        // Preallocation: allocate with size, beyond EOF keeping the size, and punch a hole.
        fd = _p.Open("/prealloc", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Created++;
        _p.Fallocate(fd, FallocateFlags.None, 0, 64 * Bs);
        _p.Fallocate(fd, FallocateFlags.FALLOC_FL_KEEP_SIZE, 64 * Bs, 32 * Bs);
        Assert.That(_p.Pwrite(fd, block, 10 * Bs), Is.EqualTo(Bs));
        _p.Fallocate(fd, FallocateFlags.FALLOC_FL_PUNCH_HOLE | FallocateFlags.FALLOC_FL_KEEP_SIZE, 20 * Bs, 8 * Bs);
        _p.Close(fd);

        // Hard links across directories, one of them later the only name left.
        _p.Link("/sf/d0/f1", "/blk/link_to_f1");
        _p.Link("/sf/d0/f1", "/sf/d3/another_f1");
        _p.Link("/blk/file_001", "/leaf/link_to_file_001");
        _p.Unlink("/blk/file_001");

        // Unlinks: every third name in the block and leaf directories, and a whole subtree.
        for (int i = 3; i < 40 / scale; i += 3)
            _p.Unlink($"/blk/file_{i:D3}");
        for (int i = 0; i < 160 / scale; i += 3)
            _p.Unlink($"/leaf/a_rather_long_file_name_to_fill_blocks_{i:D4}");
        foreach (var f in new[] { "f0", "f1", "f2" })
            _p.Unlink($"/sf/d2/{f}");
        _p.Rmdir("/sf/d2");

        // Renames: within a directory, across directories, over an existing file, a directory
        // to another parent (its ".." changes).
        _p.Rename("/blk/file_002", "/blk/renamed_002");
        _p.Rename("/leaf/a_rather_long_file_name_to_fill_blocks_0001", "/sf/d1/moved");
        _p.Rename("/trunc_up", "/blk/file_004");
        _p.Rename("/sf/d3", "/blk/d3_moved");
        _p.Rename("/sf/d1", "/leaf/d1_moved");

        Attributes();

        // Nested trees to reach a few hundred names in all.
        for (int d = 0; d < 12 / scale; d++)
        {
            Mkdir($"/tree{d}");
            Mkdir($"/tree{d}/sub");
            for (int i = 0; i < 8; i++)
                Touch($"/tree{d}/{(i % 2 == 0 ? "" : "sub/")}n{i}", i * 700);
        }
    }

    // Extended attributes in every namespace on directories of every shape and on files whose
    // data forks are extents or a B+tree, short-form and in leaf blocks, some replaced or
    // removed, a leaf on a file then unlinked, and first attributes that reshape the data fork
    // (a short-form directory becomes a block, 20 extents become a B+tree).
    private void Attributes()
    {
        static byte[] V(string s) => System.Text.Encoding.UTF8.GetBytes(s);
        // /frag's block map is a B+tree already: its attr fork gets the 40 bytes libxfs leaves
        // beside the root, and the third attribute moves them all to a leaf block.
        _p.SetXattr("/frag", "trusted.seal", [1, 0, 0, 0]);
        _p.SetXattr("/frag", "user.o", V("fragment"));
        _p.SetXattr("/frag", "user.third", V("into a leaf block"));
        AttrInodes.Add(_p.Stat("/frag").Ino);
        // A long value goes to a leaf block at once; removing it brings the rest back short-form.
        Touch("/longattr", 10);
        _p.SetXattr("/longattr", "user.long", new byte[1500]);
        _p.SetXattr("/longattr", "user.short", V("s"));
        AttrInodes.Add(_p.Stat("/longattr").Ino);
        Touch("/backtosf", 10);
        _p.SetXattr("/backtosf", "user.long", new byte[600]);
        _p.SetXattr("/backtosf", "user.short", V("s"));
        _p.RemoveXattr("/backtosf", "user.long");
        AttrInodes.Add(_p.Stat("/backtosf").Ino);
        foreach (var path in new[] { "/sf", "/blk", "/leaf", "/few", "/prealloc" })
        {
            _p.SetXattr(path, "user.origin", V("gate " + path));
            _p.SetXattr(path, "trusted.seal", [1, 0, 0, 0]);
            _p.SetXattr(path, "security.label", V("system_u:object_r:gate_t:s0"));
            _p.SetXattr(path, "user.origin", V("replaced " + path), XattrFlags.XATTR_REPLACE);
            AttrInodes.Add(_p.Stat(path).Ino);
        }
        _p.RemoveXattr("/few", "security.label");
        for (int i = 0; i < 8; i++)
            _p.SetXattr("/blk/file_000", $"user.n{i}", V(new string((char)('a' + i), 3 * i)));
        AttrInodes.Add(_p.Stat("/blk/file_000").Ino);
        _p.SetXattr("/prealloc", "user.gone", V("soon"));
        _p.RemoveXattr("/prealloc", "user.gone");

        Mkdir("/sfattr");
        for (int i = 0; i < 16; i++)
            Touch($"/sfattr/name-number-{i:D2}", 0);
        _p.SetXattr("/sfattr", "user.a", V("makes the directory a block"));
        AttrInodes.Add(_p.Stat("/sfattr").Ino);

        int fd = _p.Open("/ext20", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Created++;
        var block = new byte[Bs];
        for (int i = 0; i < 20; i++)
        {
            Array.Fill(block, (byte)(i + 1));
            Assert.That(_p.Pwrite(fd, block, 2L * i * Bs), Is.EqualTo(Bs));
        }
        _p.FSetXattr(fd, "user.a", V("makes the block map a B+tree"));
        _p.Close(fd);
        AttrInodes.Add(_p.Stat("/ext20").Ino);

        Touch("/attr_unlinked", 100);
        _p.SetXattr("/attr_unlinked", "user.a", new byte[700]);
        _p.SetXattr("/attr_unlinked", "trusted.b", V("too"));
        _p.Unlink("/attr_unlinked");
    }
}
