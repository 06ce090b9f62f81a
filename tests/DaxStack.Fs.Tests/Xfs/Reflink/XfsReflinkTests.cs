using DaxStack.Device.Errors;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Bmap;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Files;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Reflink;
using DaxStack.Fs.Xfs.Repair;

namespace DaxStack.Fs.Tests.Xfs.Reflink;

public class XfsReflinkTests
{
    private const int Bs = 4096;

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static byte[] ReadAll(XfsInode ip)
    {
        var data = new byte[ip.Core.Size];
        Assert.That(XfsFileIo.Read(ip, 0, data), Is.EqualTo(data.LongLength));
        return data;
    }

    private static void AssertCheckerClean(MetadataTestFs fs, string when)
    {
        var report = XfsChecker.Check(fs.Device.Device);
        Assert.That(report.Errors.Select(p => p.ToString()), Is.Empty, when);
    }

    [Test]
    public void ACloneSharesEveryWrittenBlockAndCountsTwoOwners()
    {
        using var fs = MetadataTestFs.Create();
        var a = RootLinks.CreateFile(fs.Mount, "a");
        var b = RootLinks.CreateFile(fs.Mount, "b");
        var data = Pattern(10 * Bs + 5, 1);
        XfsFileIo.Write(a, 0, data);
        ulong free = fs.Mount.Superblock.FdBlocks;
        Assert.That(XfsReflink.RemapRange(a, 0, b, 0, data.Length), Is.EqualTo((long)data.Length));
        Assert.That(ReadAll(b), Is.EqualTo(data));
        Assert.That(b.DataFork.Extents.Select(e => e.StartBlock), Is.EqualTo(a.DataFork.Extents.Select(e => e.StartBlock)));
        Assert.That(fs.Mount.Superblock.FdBlocks, Is.EqualTo(free), "sharing takes no data blocks");
        Assert.That((XfsReflink.IsReflinked(a), XfsReflink.IsReflinked(b)), Is.EqualTo((true, true)));
        var geo = fs.Mount.Geometry;
        var first = a.DataFork.Extents[0];
        using (var tp = fs.Begin())
        {
            var records = XfsRefcount.Records(tp, geo.FsbToAgno(first.StartBlock), 0, geo.AgLength(0));
            Assert.That(records.Select(r => (r.BlockCount, r.RefCount)), Is.EqualTo(new[] { (11u, 2u) }));
        }
        AssertCheckerClean(fs, "after a clone");
    }

    [Test]
    public void WritingToACloneCopiesTheSharedBlockAndLeavesTheOriginalAlone()
    {
        using var fs = MetadataTestFs.Create();
        var a = RootLinks.CreateFile(fs.Mount, "a");
        var b = RootLinks.CreateFile(fs.Mount, "b");
        var data = Pattern(8 * Bs, 2);
        XfsFileIo.Write(a, 0, data);
        XfsReflink.RemapRange(a, 0, b, 0, data.Length);
        var patch = Pattern(100, 3);
        XfsFileIo.Write(b, 3 * Bs + 50, patch);
        Assert.That(ReadAll(a), Is.EqualTo(data));
        var expected = (byte[])data.Clone();
        patch.CopyTo(expected, 3 * Bs + 50);
        Assert.That(ReadAll(b), Is.EqualTo(expected));
        Assert.That(XfsBmap.Lookup(b, 3).StartBlock, Is.Not.EqualTo(XfsBmap.Lookup(a, 3).StartBlock));
        Assert.That(XfsBmap.Lookup(b, 4).StartBlock, Is.EqualTo(XfsBmap.Lookup(a, 4).StartBlock));
        AssertCheckerClean(fs, "after copy-on-write");
    }

    [Test]
    public void RemovingEveryOwnerFreesTheSharedBlocksExactlyOnce()
    {
        using var fs = MetadataTestFs.Create();
        ulong start = fs.Mount.Superblock.FdBlocks;
        var a = RootLinks.CreateFile(fs.Mount, "a");
        var b = RootLinks.CreateFile(fs.Mount, "b");
        var c = RootLinks.CreateFile(fs.Mount, "c");
        XfsFileIo.Write(a, 0, Pattern(20 * Bs, 4));
        XfsReflink.RemapRange(a, 0, b, 0, 20 * Bs);
        XfsReflink.RemapRange(b, 5 * Bs, c, 0, 10 * Bs);
        ulong used = start - fs.Mount.Superblock.FdBlocks;
        XfsFileIo.Truncate(a, 0);
        Assert.That(start - fs.Mount.Superblock.FdBlocks, Is.EqualTo(used), "b still owns every block");
        XfsFileIo.Truncate(b, 0);
        Assert.That(start - fs.Mount.Superblock.FdBlocks, Is.EqualTo(used - 10), "c still owns 10 of the 20 blocks");
        AssertCheckerClean(fs, "with one owner left");
        XfsFileIo.Truncate(c, 0);
        Assert.That(fs.Mount.Superblock.FdBlocks, Is.GreaterThanOrEqualTo(start - 8), "only inode-chunk and tree blocks stay used");
        AssertCheckerClean(fs, "after every owner went");
    }

    [Test]
    public void UnshareGivesTheFilePrivateCopiesWithTheSameContents()
    {
        using var fs = MetadataTestFs.Create();
        var a = RootLinks.CreateFile(fs.Mount, "a");
        var b = RootLinks.CreateFile(fs.Mount, "b");
        var data = Pattern(6 * Bs, 5);
        XfsFileIo.Write(a, 0, data);
        XfsReflink.RemapRange(a, 0, b, 0, data.Length);
        XfsFileSpace.UnshareRange(b, Bs, 3 * Bs);
        Assert.That(ReadAll(b), Is.EqualTo(data));
        for (ulong blk = 0; blk < 6; blk++)
        {
            bool same = XfsBmap.Lookup(a, blk).StartBlock == XfsBmap.Lookup(b, blk).StartBlock;
            Assert.That(same, Is.EqualTo(blk is 0 or >= 4), $"block {blk}");
        }
        AssertCheckerClean(fs, "after unshare");
    }

    [Test]
    public void UnalignedOrOverlappingRangesFailWithEinvalAndReflinkZeroFilesystemsWithEopnotsupp()
    {
        using (var fs = MetadataTestFs.Create())
        {
            var a = RootLinks.CreateFile(fs.Mount, "a");
            var b = RootLinks.CreateFile(fs.Mount, "b");
            XfsFileIo.Write(a, 0, Pattern(4 * Bs, 6));
            Assert.That(Assert.Throws<XfsException>(() => XfsReflink.RemapRange(a, 100, b, 0, Bs))!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(Assert.Throws<XfsException>(() => XfsReflink.RemapRange(a, 0, b, 0, Bs + 1))!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(Assert.Throws<XfsException>(() => XfsReflink.RemapRange(a, 0, a, Bs, 2 * Bs))!.Errno, Is.EqualTo(Errno.EINVAL));
        }
        using (var fs = MetadataTestFs.Create(reflink: false))
        {
            var a = RootLinks.CreateFile(fs.Mount, "a");
            var b = RootLinks.CreateFile(fs.Mount, "b");
            XfsFileIo.Write(a, 0, Pattern(Bs, 7));
            Assert.That(Assert.Throws<XfsException>(() => XfsReflink.RemapRange(a, 0, b, 0, Bs))!.Errno, Is.EqualTo(Errno.EOPNOTSUPP));
        }
    }

    /// <summary>
    /// Seeded random clones, writes, punches, truncates and unshares among three files, every
    /// file's contents compared with a byte model after each step; our checker (ownership
    /// against reference counts) every 50 steps and xfs_repair -n at the end.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    public void RandomSharingMatchesAByteModelAndTheCheckersAgree(int seed)
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-reflink-").FullName;
        try
        {
            string image = FsTestDevice.SparseImage(dir, "reflink.img", 64 * MetadataTestFs.MiB);
            using (var fs = MetadataTestFs.CreateOnImage(image))
            {
                var rng = new Random(seed);
                var files = new[] { "a", "b", "c" }.Select(n => RootLinks.CreateFile(fs.Mount, n)).ToArray();
                var models = files.Select(_ => new List<byte>()).ToArray();
                const int span = 48;
                for (int step = 0; step < 250; step++)
                {
                    int f = rng.Next(3);
                    var ip = files[f];
                    var m = models[f];
                    long off = rng.Next(span) * (long)Bs;
                    long len = rng.Next(1, 12) * (long)Bs;
                    string what;
                    switch (rng.Next(6))
                    {
                        case 0:
                        case 1:
                        {
                            long at = off + rng.Next(Bs);
                            var data = Pattern(rng.Next(1, 3 * Bs), seed * 10_000 + step);
                            what = $"write {f} {at}+{data.Length}";
                            XfsFileIo.Write(ip, at, data);
                            Resize(m, Math.Max(m.Count, (int)at + data.Length));
                            for (int i = 0; i < data.Length; i++)
                                m[(int)at + i] = data[i];
                            break;
                        }
                        case 2:
                        {
                            int g = rng.Next(3);
                            var src = models[g];
                            long srcOff = rng.Next(span) * (long)Bs;
                            if (srcOff >= src.Count || (g == f && Math.Abs(srcOff - off) < len))
                            {
                                what = "skip";
                                break;
                            }
                            long n = Math.Min(len, src.Count - srcOff);
                            what = $"clone {g} {srcOff}+{n} -> {f} {off}";
                            if (n % Bs != 0 && off + n < m.Count)
                            {
                                // A partial EOF block may not land inside the destination.
                                var e = Assert.Throws<XfsException>(() => XfsReflink.RemapRange(files[g], srcOff, ip, off, n));
                                Assert.That(e!.Errno, Is.EqualTo(Errno.EINVAL), $"seed {seed} step {step} {what}");
                                break;
                            }
                            XfsReflink.RemapRange(files[g], srcOff, ip, off, n);
                            var copy = src.GetRange((int)srcOff, (int)n);
                            Resize(m, Math.Max(m.Count, (int)(off + n)));
                            for (int i = 0; i < n; i++)
                                m[(int)off + i] = copy[i];
                            break;
                        }
                        case 3:
                            what = $"punch {f} {off}+{len}";
                            XfsFileSpace.PunchHole(ip, off, len);
                            for (long i = off; i < Math.Min(m.Count, off + len); i++)
                                m[(int)i] = 0;
                            break;
                        case 4:
                        {
                            long size = rng.Next(span * Bs);
                            what = $"truncate {f} {size}";
                            XfsFileIo.Truncate(ip, size);
                            Resize(m, (int)size);
                            break;
                        }
                        default:
                            what = $"unshare {f} {off}+{len}";
                            XfsFileSpace.UnshareRange(ip, off, len);
                            break;
                    }
                    for (int i = 0; i < 3; i++)
                    {
                        var actual = ReadAll(files[i]);
                        if (!actual.AsSpan().SequenceEqual(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(models[i])))
                            Assert.Fail($"seed {seed} step {step} after {what}: file {i} differs from the model at byte {actual.AsSpan().CommonPrefixLength(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(models[i]))}");
                    }
                    if (step % 50 == 49)
                        AssertCheckerClean(fs, $"seed {seed} step {step}");
                }
            }
            XfsProgs.AssertRepairPasses(image, $"after random reflink workload seed {seed}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Resize(List<byte> model, int size)
    {
        if (size < model.Count)
            model.RemoveRange(size, model.Count - size);
        else
            model.AddRange(new byte[size - model.Count]);
    }
}
