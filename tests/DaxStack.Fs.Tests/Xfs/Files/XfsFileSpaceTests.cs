using DaxStack.Device.Errors;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Tests.Xfs.Bmap;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Files;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Files;

public class XfsFileSpaceTests
{
    private const int Bs = 4096;

    private static byte[] ReadAll(XfsInode ip)
    {
        var data = new byte[ip.Core.Size];
        Assert.That(XfsFileIo.Read(ip, 0, data), Is.EqualTo(data.LongLength));
        return data;
    }

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Test]
    public void PreallocationAddsUnwrittenBlocksThatReadAsZeroesAndKeepSizeLeavesTheSize()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        XfsFileSpace.Preallocate(ip, 0, 10 * Bs, keepSize: true);
        Assert.That((ip.Core.Size, ip.Core.NBlocks, ip.DataFork.Extents.All(e => e.Unwritten)), Is.EqualTo((0UL, 10UL, true)));
        XfsFileSpace.Preallocate(ip, 5 * Bs, 10 * Bs + 1, keepSize: false);
        Assert.That((ip.Core.Size, ip.Core.NBlocks), Is.EqualTo((15UL * Bs + 1, 16UL)));
        Assert.That(ReadAll(ip).AsSpan().IndexOfAnyExcept((byte)0), Is.EqualTo(-1));
    }

    [Test]
    public void PunchingAHoleFreesWholeBlocksAndZeroesThePartialOnes()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        var data = Pattern(8 * Bs, 1);
        XfsFileIo.Write(ip, 0, data);
        XfsFileSpace.PunchHole(ip, Bs + 100, 3 * Bs);
        Array.Clear(data, Bs + 100, 3 * Bs);
        Assert.That(ReadAll(ip), Is.EqualTo(data));
        Assert.That((ip.Core.Size, ip.Core.NBlocks), Is.EqualTo((8UL * Bs, 6UL)), "blocks 2 and 3 are freed, 1 and 4 kept");
    }

    [Test]
    public void CollapseAndInsertMoveTheLaterDataAndChangeTheSize()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        var data = Pattern(10 * Bs, 2);
        XfsFileIo.Write(ip, 0, data);
        XfsFileSpace.CollapseRange(ip, 2 * Bs, 3 * Bs);
        var expected = data.Take(2 * Bs).Concat(data.Skip(5 * Bs)).ToArray();
        Assert.That(ReadAll(ip), Is.EqualTo(expected));
        XfsFileSpace.InsertRange(ip, Bs, 2 * Bs);
        expected = expected.Take(Bs).Concat(new byte[2 * Bs]).Concat(expected.Skip(Bs)).ToArray();
        Assert.That(ReadAll(ip), Is.EqualTo(expected));
        Assert.That((ip.Core.Size, ip.Core.NBlocks), Is.EqualTo((9UL * Bs, 7UL)));
    }

    [TestCase(100, 4096, "collapse")]
    [TestCase(4096, 100, "collapse")]
    [TestCase(100, 4096, "insert")]
    public void CollapseAndInsertOfPartialBlocksFailWithEinval(long offset, long length, string op)
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        XfsFileIo.Write(ip, 0, new byte[5 * Bs]);
        var e = Assert.Throws<XfsException>(() =>
        {
            if (op == "collapse")
                XfsFileSpace.CollapseRange(ip, offset, length);
            else
                XfsFileSpace.InsertRange(ip, offset, length);
        });
        Assert.That(e!.Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void CollapseReachingEndOfFileAndInsertAtEndOfFileFailWithEinval()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        XfsFileIo.Write(ip, 0, new byte[5 * Bs]);
        Assert.That(Assert.Throws<XfsException>(() => XfsFileSpace.CollapseRange(ip, 3 * Bs, 2 * Bs))!.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(Assert.Throws<XfsException>(() => XfsFileSpace.InsertRange(ip, 5 * Bs, Bs))!.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(Assert.Throws<XfsException>(() => XfsFileSpace.InsertRange(ip, 0, XfsFileIo.MaxBytes / Bs * Bs))!.Errno, Is.EqualTo(Errno.EFBIG));
    }

    [Test]
    public void ZeroRangeLeavesTheRangeAllocatedAndReadingZeroes()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        var data = Pattern(6 * Bs, 3);
        XfsFileIo.Write(ip, 0, data);
        XfsFileSpace.ZeroRange(ip, Bs / 2, 4 * Bs, keepSize: false);
        Array.Clear(data, Bs / 2, 4 * Bs);
        Assert.That(ReadAll(ip), Is.EqualTo(data));
        Assert.That(ip.Core.NBlocks, Is.EqualTo(6UL));
        XfsFileSpace.ZeroRange(ip, 5 * Bs, 4 * Bs, keepSize: false);
        Assert.That((ip.Core.Size, ip.Core.NBlocks), Is.EqualTo((9UL * Bs, 9UL)));
    }

    /// <summary>
    /// A seeded random mix of writes, truncates and every fallocate mode on one file, its
    /// whole contents compared after every step with a byte array that models the file; now and
    /// then read back through a new mount and the space audited.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void RandomDataAndSpaceOperationsMatchAByteModel(int seed)
    {
        using var fs = MetadataTestFs.Create(128 * MetadataTestFs.MiB, agcount: 4);
        var ip = RootLinks.CreateFile(fs.Mount, "model");
        var rng = new Random(seed);
        var model = new List<byte>();
        const int limit = 96 * Bs;
        for (int step = 0; step < 400; step++)
        {
            int size = model.Count;
            int op = rng.Next(8);
            string what = "";
            long off = rng.Next(0, limit);
            long len = rng.Next(1, rng.Next(4) == 0 ? 12 * Bs : 2 * Bs);
            bool aligned = rng.Next(2) == 0;
            if (aligned)
            {
                off = off / Bs * Bs;
                len = Math.Max(Bs, len / Bs * Bs);
            }
            try
            {
                switch (op)
                {
                    case 0:
                    case 1:
                        what = $"write {off}+{len}";
                        var data = Pattern((int)len, seed * 1000 + step);
                        XfsFileIo.Write(ip, off, data);
                        Resize(model, Math.Max(size, (int)(off + len)));
                        for (int i = 0; i < len; i++)
                            model[(int)off + i] = data[i];
                        break;
                    case 2:
                        what = $"truncate {off}";
                        XfsFileIo.Truncate(ip, off);
                        Resize(model, (int)off);
                        break;
                    case 3:
                        bool keep = rng.Next(2) == 0;
                        what = $"falloc {(keep ? "-k " : "")}{off}+{len}";
                        XfsFileSpace.Preallocate(ip, off, len, keep);
                        if (!keep)
                            Resize(model, Math.Max(size, (int)(off + len)));
                        break;
                    case 4:
                        what = $"fpunch {off}+{len}";
                        XfsFileSpace.PunchHole(ip, off, len);
                        for (long i = off; i < Math.Min(size, off + len); i++)
                            model[(int)i] = 0;
                        break;
                    case 5:
                        bool keepZ = rng.Next(2) == 0;
                        what = $"fzero {(keepZ ? "-k " : "")}{off}+{len}";
                        XfsFileSpace.ZeroRange(ip, off, len, keepZ);
                        for (long i = off; i < Math.Min(size, off + len); i++)
                            model[(int)i] = 0;
                        if (!keepZ)
                            Resize(model, Math.Max(size, (int)(off + len)));
                        break;
                    case 6:
                        what = $"fcollapse {off}+{len}";
                        bool collapseOk = off % Bs == 0 && len % Bs == 0 && off + len < size;
                        try
                        {
                            XfsFileSpace.CollapseRange(ip, off, len);
                            Assert.That(collapseOk, Is.True, $"seed {seed} step {step} {what} should have failed");
                            model.RemoveRange((int)off, (int)len);
                        }
                        catch (XfsException e) when (!collapseOk)
                        {
                            Assert.That(e.Errno, Is.EqualTo(Errno.EINVAL), $"seed {seed} step {step} {what}");
                        }
                        break;
                    default:
                        what = $"finsert {off}+{len}";
                        bool insertOk = off % Bs == 0 && len % Bs == 0 && off < size && size + len <= limit * 2;
                        if (size + len > limit * 2)
                            break;
                        try
                        {
                            XfsFileSpace.InsertRange(ip, off, len);
                            Assert.That(insertOk, Is.True, $"seed {seed} step {step} {what} should have failed");
                            model.InsertRange((int)off, new byte[len]);
                        }
                        catch (XfsException e) when (!insertOk)
                        {
                            Assert.That(e.Errno, Is.EqualTo(Errno.EINVAL), $"seed {seed} step {step} {what}");
                        }
                        break;
                }
            }
            catch (Exception e) when (e is not AssertionException)
            {
                Assert.Fail($"seed {seed} step {step} {what}: {e}");
            }
            Assert.That((long)ip.Core.Size, Is.EqualTo(model.Count), $"seed {seed} step {step} after {what}: size");
            AssertSameBytes(ReadAll(ip), model, $"seed {seed} step {step} after {what}: contents");
            if (step % 100 == 99)
            {
                ip = BmapTestOps.Reread(fs, ip.Ino);
                AssertSameBytes(ReadAll(ip), model, $"seed {seed} step {step}: contents after a remount");
                XfsSpaceAudit.Run(fs.Device.Device, agno => BmapTestOps.OwnedBlocks(ip).Where(b => b.AgNo == agno).Select(b => (b.Start, b.Length)));
            }
        }
    }

    // A fast comparison that names the first differing byte (NUnit's element-wise equality is slow on large arrays).
    private static void AssertSameBytes(byte[] actual, List<byte> expected, string when)
    {
        var want = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(expected);
        if (actual.AsSpan().SequenceEqual(want))
            return;
        int at = actual.AsSpan().CommonPrefixLength(want);
        Assert.Fail($"{when}: {actual.Length} bytes read, {want.Length} expected; first difference at byte {at} (block {at / Bs})");
    }

    private static void Resize(List<byte> model, int size)
    {
        if (size < model.Count)
            model.RemoveRange(size, model.Count - size);
        else
            model.AddRange(new byte[size - model.Count]);
    }

    [Test]
    [NonParallelizable]
    public void XfsRepairAcceptsTheImageAfterEveryKindOfSpaceOperation()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-space-").FullName;
        try
        {
            string image = FsTestDevice.SparseImage(dir, "space.img", 64 * MetadataTestFs.MiB);
            using (var fs = MetadataTestFs.CreateOnImage(image))
            {
                var ip = RootLinks.CreateFile(fs.Mount, "f");
                XfsFileIo.Write(ip, 0, Pattern(200 * Bs, 4));
                for (int i = 0; i < 40; i++)
                    XfsFileSpace.PunchHole(ip, (4 * i + 1) * Bs, Bs);
                XfsFileSpace.CollapseRange(ip, 10 * Bs, 5 * Bs);
                XfsFileSpace.InsertRange(ip, 3 * Bs, 7 * Bs);
                XfsFileSpace.ZeroRange(ip, 50 * Bs + 10, 9 * Bs, keepSize: true);
                XfsFileSpace.Preallocate(ip, 300 * Bs, 20 * Bs, keepSize: true);
                XfsFileIo.Truncate(ip, 150 * Bs + 7);
                Assert.That(ip.DataFork.Format, Is.EqualTo(XfsDinodeFormat.Btree));
            }
            XfsProgs.AssertRepairPasses(image, "after punch, collapse, insert, zero, preallocate and truncate");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
