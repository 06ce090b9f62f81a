using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Ialloc;

/// <summary>
/// Real xfsprogs judge the inode allocator's work: inode and free-inode B+trees grown to two
/// levels and kept (ikeep) with every inode free, the image after inodes were allocated and
/// all freed again (chunks freed), and inodes the allocator handed out once they are owned, that
/// is regular files linked from the root directory, so xfs_repair sees inodes in use that are
/// consistent with the inobt, finobt and AGI. (An allocated inode nobody made into a file has
/// mode 0, which xfs_repair rightly reports, so such states are checked by our own audit only.)
/// </summary>
[NonParallelizable]
public class XfsIallocInteropTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-ialloc-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>Allocates <paramref name="count"/> inodes next to the root, a batch per transaction.</summary>
    private static List<ulong> AllocateMany(MetadataTestFs fs, int count)
    {
        var inodes = new List<ulong>();
        ulong root = fs.Mount.Superblock.RootIno;
        while (inodes.Count < count)
        {
            int batch = Math.Min(256, count - inodes.Count);
            using var tp = fs.Begin((uint)(batch / 64 + 2) * XfsIalloc.AllocateReservation(fs.Mount));
            for (int i = 0; i < batch; i++)
                inodes.Add(XfsIalloc.Allocate(tp, root));
            tp.Commit();
        }
        return inodes;
    }

    private static void FreeMany(MetadataTestFs fs, IEnumerable<ulong> inodes)
    {
        foreach (var batch in inodes.Chunk(256))
        {
            using var tp = fs.Begin(XfsIalloc.FreeReservation(fs.Mount) * (uint)batch.Length);
            foreach (ulong ino in batch)
                XfsIalloc.Free(tp, ino);
            tp.Commit();
        }
    }

    [TestCase(true)]
    [TestCase(false)]
    public void XfsRepairAcceptsTheImageAfterTwoLevelInodeTreesHadAllTheirInodesFreed(bool ikeep)
    {
        string image = FsTestDevice.SparseImage(_dir, "inodes.img", 64 * MetadataTestFs.MiB);
        int leafMax = XfsBtreeKind.Ino.MaxRecords(4096, leaf: true);
        using (var fs = MetadataTestFs.CreateOnImage(image, options: new XfsMountOptions { Ikeep = ikeep, GenerationSeed = 5 }))
        {
            // Enough chunks to split the inode B+tree's root leaf.
            var inodes = AllocateMany(fs, (leafMax + 4) * 64);
            var grown = XfsSpaceAudit.Run(fs.Device.Device)[0];
            Assert.That((grown.Agi.Level, grown.Inodes.Count), Is.EqualTo((2u, leafMax + 5)));
            var rng = new Random(3);
            FreeMany(fs, inodes.OrderBy(_ => rng.Next()));
            var ag = XfsSpaceAudit.Run(fs.Device.Device)[0];
            if (ikeep)
                Assert.That((ag.Agi.Level, ag.Agi.FreeLevel, ag.Agi.Count, ag.Agi.FreeCount), Is.EqualTo((2u, 2u, (uint)(leafMax + 5) * 64, (uint)(leafMax + 5) * 64 - 3)));
            else
                Assert.That((ag.Agi.Level, ag.Agi.FreeLevel, ag.Agi.Count, ag.Agi.FreeCount), Is.EqualTo((1u, 1u, 64u, 61u)));
        }
        var agi = XfsProgs.DbFields(image, "agi 0");
        Assert.That(agi["crc"], Does.EndWith("(correct)"));
        XfsProgs.AssertRepairPasses(image, ikeep ? "with two-level inode trees of free chunks" : "after the chunks were freed");
    }

    [Test]
    public void XfsRepairAcceptsAllocatedInodesOnceTheyAreFilesInTheRootDirectory()
    {
        string image = FsTestDevice.SparseImage(_dir, "files.img", 64 * MetadataTestFs.MiB);
        List<ulong> files;
        using (var fs = MetadataTestFs.CreateOnImage(image))
        {
            var geo = fs.Mount.Geometry;
            ulong inAg1 = geo.MakeIno(1, geo.AgBlockToAgino(4000));
            files = [];
            using (var tp = fs.Begin(4 * XfsIalloc.AllocateReservation(fs.Mount)))
            {
                for (int i = 0; i < 20; i++)
                    files.Add(XfsIalloc.Allocate(tp, inAg1));
                for (int i = 0; i < 3; i++)
                    files.Add(XfsIalloc.Allocate(tp, fs.Mount.Superblock.RootIno));
                RootDirectory.Link(tp, files);
                tp.Commit();
            }
            XfsSpaceAudit.Run(fs.Device.Device);
        }
        var agi = XfsProgs.DbFields(image, "agi 1");
        Assert.That((agi["count"], agi["freecount"]), Is.EqualTo(("64", "44")));
        XfsProgs.AssertRepairPasses(image, "with 23 new files");

        using (var fs = MetadataTestFs.Open(image))
        {
            var gone = files.Where((_, i) => i % 4 == 0).ToList();
            using var tp = fs.Begin(XfsIalloc.FreeReservation(fs.Mount) * (uint)gone.Count);
            RootDirectory.Unlink(tp, gone);
            foreach (ulong ino in gone)
                XfsIalloc.Free(tp, ino);
            tp.Commit();
        }
        agi = XfsProgs.DbFields(image, "agi 1");
        Assert.That((agi["count"], agi["freecount"]), Is.EqualTo(("64", "49")));
        XfsProgs.AssertRepairPasses(image, "after 6 of the files were removed");
    }

    [Test]
    public void AllocatingAndFreeingInodesOnAnImageRealMkfsXfsMadeKeepsItValid()
    {
        string image = FsTestDevice.SparseImage(_dir, "mkfs.xfs.img", 64 * MetadataTestFs.MiB);
        XfsProgs.MkfsXfs(image, "-d", "agcount=2");
        using (var fs = MetadataTestFs.Open(image))
        {
            var inodes = AllocateMany(fs, 1000);
            var geo = fs.Mount.Geometry;
            ulong inAg1 = geo.MakeIno(1, geo.AgBlockToAgino(4000));
            using (var tp = fs.Begin(2 * XfsIalloc.AllocateReservation(fs.Mount)))
            {
                for (int i = 0; i < 70; i++)
                    inodes.Add(XfsIalloc.Allocate(tp, inAg1));
                tp.Commit();
            }
            // The root chunk's 61 free inodes, then 15 new chunks in AG 0 and 2 in AG 1.
            Assert.That(XfsSpaceAudit.Run(fs.Device.Device).Sum(a => a.Inodes.Count), Is.EqualTo(1 + 15 + 2));
            var rng = new Random(9);
            FreeMany(fs, inodes.OrderBy(_ => rng.Next()));
            var ags = XfsSpaceAudit.Run(fs.Device.Device);
            Assert.That(ags.Select(a => a.Agi.Count), Is.EqualTo(new uint[] { 64, 0 }));
        }
        XfsProgs.AssertRepairPasses(image, "after allocating and freeing inodes on a mkfs.xfs image");
    }

    /// <summary>
    /// Just enough of the inode and directory layers for the test: turns allocated inodes into
    /// empty regular files named in the root's short-form directory, and back into free inodes.
    /// </summary>
    private static class RootDirectory
    {
        private static (XfsBuffer Buffer, int Offset) Slot(XfsTransaction tp, ulong ino)
        {
            var mp = tp.Mount;
            var geo = mp.Geometry;
            uint agno = geo.InoToAgno(ino), agino = geo.InoToAgino(ino);
            uint agbno = geo.AginoToAgbno(agino);
            // Chunks are aligned to whole clusters, so a cluster starts at a multiple of its size.
            uint cluster = agbno / mp.InodeClusterBlocks * mp.InodeClusterBlocks;
            var bp = tp.ReadBuffer(geo.AgBlockToDaddr(agno, cluster), (int)mp.InodeClusterBlocks * geo.BlockSize, XfsInodeBufferOps.Instance);
            int offset = (int)((agbno - cluster) << geo.InodesPerBlockLog) * geo.InodeSize + (int)(agino & ((1u << geo.InodesPerBlockLog) - 1)) * geo.InodeSize;
            return (bp, offset);
        }

        private static XfsDinode Read(XfsTransaction tp, ulong ino)
        {
            var (bp, offset) = Slot(tp, ino);
            return XfsDinode.Decode(bp.Data.AsSpan(offset, tp.Mount.Geometry.InodeSize));
        }

        private static void Write(XfsTransaction tp, XfsDinode inode)
        {
            var (bp, offset) = Slot(tp, inode.Ino);
            inode.WriteTo(bp.Data.AsSpan(offset, tp.Mount.Geometry.InodeSize));
            tp.LogBuffer(bp, offset, tp.Mount.Geometry.InodeSize);
        }

        private static void Rewrite(XfsTransaction tp, Action<XfsDir2Shortform> change)
        {
            var root = Read(tp, tp.Mount.Superblock.RootIno);
            var dir = XfsDir2Shortform.ReadFrom(root.DataFork, root.Size, root.Ino);
            change(dir);
            Array.Clear(root.Literal);
            root.Size = (ulong)dir.WriteTo(root.Literal);
            Write(tp, root);
        }

        public static void Link(XfsTransaction tp, IReadOnlyList<ulong> inodes)
        {
            var now = XfsTimestamp.From(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));
            foreach (ulong ino in inodes)
            {
                var inode = Read(tp, ino);
                Assert.That(inode.Mode, Is.Zero, $"inode {ino} was handed out but is not free on disk");
                inode.Mode = XfsDinode.TypeRegular | 0x1A4; // 0644
                inode.Format = XfsDinodeFormat.Extents;
                inode.AFormat = XfsDinodeFormat.Extents;
                inode.Nlink = 1;
                inode.Flags2 = XfsDiFlags2.BigTime;
                inode.Mtime = inode.Ctime = inode.Crtime = now;
                Write(tp, inode);
            }
            Rewrite(tp, dir =>
            {
                foreach (ulong ino in inodes)
                {
                    ushort offset = dir.Entries.Count == 0
                        ? XfsDir2Shortform.FirstOffset
                        : (ushort)(dir.Entries[^1].Offset + XfsDir2Shortform.DataEntrySize(dir.Entries[^1].Name.Length));
                    dir.Entries.Add(new XfsDir2SfEntry(System.Text.Encoding.ASCII.GetBytes($"f{ino}"), offset, XfsDirFileType.RegularFile, ino));
                }
            });
        }

        public static void Unlink(XfsTransaction tp, IReadOnlyList<ulong> inodes)
        {
            Rewrite(tp, dir => dir.Entries.RemoveAll(e => inodes.Contains(e.Ino)));
            foreach (ulong ino in inodes)
            {
                // What xfs_ifree leaves: mode 0, an extents fork, the next generation.
                var inode = Read(tp, ino);
                Write(tp, new XfsDinode
                {
                    Format = XfsDinodeFormat.Extents,
                    Gen = inode.Gen + 1,
                    NextUnlinked = XfsFormat.NullAgIno,
                    Ino = ino,
                    Uuid = inode.Uuid,
                    Literal = new byte[inode.Literal.Length],
                });
            }
        }
    }
}
