using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using static DaxStack.Fs.Tests.Xfs.Bmap.BmapTestOps;

namespace DaxStack.Fs.Tests.Xfs.Bmap;

/// <summary>
/// Seeded random sequences of allocations, punches and conversions on two files, each step
/// checked against a per-block reference model; every so often the filesystem is read back
/// through a new mount and its space audited (free space and the files' blocks partition the
/// AGs). Fragmentation grows the files' B+trees and punches shrink them back.
/// </summary>
public class XfsBmapModelTests
{
    private const ulong Span = 3000;

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void RandomBlockMapOperationsMatchTheModel(int seed)
    {
        using var fs = MetadataTestFs.Create(128 * MetadataTestFs.MiB, agcount: 4);
        var rng = new Random(seed);
        var files = new[] { RootLinks.CreateFile(fs.Mount, "a"), RootLinks.CreateFile(fs.Mount, "b") };
        var models = new[] { new BmapModel(), new BmapModel() };
        int maxLevel = 0;
        bool sawExtentsAgain = false;
        for (int step = 0; step < 1500; step++)
        {
            int f = rng.Next(2);
            var ip = files[f];
            var model = models[f];
            ulong off = (ulong)rng.NextInt64(0, (long)Span);
            ulong len = (ulong)rng.Next(1, rng.Next(10) == 0 ? 200 : 12);
            string what;
            int op = rng.Next(10);
            if (op < 5)
            {
                bool unwritten = rng.Next(3) == 0;
                what = $"allocate {off}+{len}{(unwritten ? " unwritten" : "")}";
                var holes = Enumerable.Range(0, (int)len).Select(i => off + (ulong)i).Where(b => !model.IsMapped(b)).ToHashSet();
                Allocate(fs.Mount, ip, off, len, unwritten);
                foreach (var m in Read(ip, off, len))
                {
                    Assert.That(m.IsHole, Is.False, $"seed {seed} step {step} {what}: {m} left unmapped");
                    for (ulong b = m.StartOff; b < m.EndOff; b++)
                    {
                        if (holes.Contains(b))
                        {
                            Assert.That(m.State == XfsBmapState.Unwritten, Is.EqualTo(unwritten), $"seed {seed} step {step} {what}: state of new block {b}");
                            model.Map(b, m.StartBlock + (b - m.StartOff), unwritten);
                        }
                    }
                }
            }
            else if (op < 8)
            {
                what = $"punch {off}+{len}";
                ulong expected = (ulong)Enumerable.Range(0, (int)len).Count(i => model.IsMapped(off + (ulong)i));
                Assert.That(Unmap(fs.Mount, ip, off, len), Is.EqualTo(expected), $"seed {seed} step {step} {what}");
                for (ulong b = off; b < off + len; b++)
                    model.Unmap(b);
            }
            else
            {
                bool toUnwritten = op == 9;
                what = $"convert {off}+{len} to {(toUnwritten ? "unwritten" : "written")}";
                Convert(fs.Mount, ip, off, len, toUnwritten);
                for (ulong b = off; b < off + len; b++)
                    model.SetState(b, toUnwritten);
            }
            Check(ip, model, $"seed {seed} step {step} after {what}");
            if (ip.DataFork.Btree is { } tree)
                maxLevel = Math.Max(maxLevel, tree.RootLevel);
            else if (maxLevel > 0)
                sawExtentsAgain = true;

            if (step % 300 == 299)
            {
                fs.Remount();
                using (var tp = fs.Begin())
                    files = [.. files.Select(x => XfsInodeCache.For(fs.Mount).GetInUse(tp, x.Ino))];
                for (int i = 0; i < 2; i++)
                    Check(files[i], models[i], $"seed {seed} step {step} read back from the device");
                XfsSpaceAudit.Run(fs.Device.Device, agno => files.SelectMany(OwnedBlocks).Where(b => b.AgNo == agno).Select(b => (b.Start, b.Length)));
            }
        }
        Assert.That(maxLevel, Is.GreaterThanOrEqualTo(1), $"seed {seed}: the files never needed a B+tree");
        TestContext.Out.WriteLine($"seed {seed}: deepest root level {maxLevel}, back to extents format after a tree: {sawExtentsAgain}");
    }

    [Test]
    public void PunchingADeepTreeDownToAFewRecordsKeepsItValidAtEveryStep()
    {
        using var fs = MetadataTestFs.Create(256 * MetadataTestFs.MiB, agcount: 4);
        var ip = RootLinks.CreateFile(fs.Mount, "deep");
        const int records = 5200;
        Fragment(fs.Mount, ip, records);
        Assert.That(ip.DataFork.Btree!.RootLevel, Is.EqualTo(2));
        var model = new BmapModel();
        foreach (var e in ip.DataFork.Extents)
            model.Map(e.StartOff, e.StartBlock, e.Unwritten);
        var rng = new Random(11);
        int step = 0;
        var levels = new SortedSet<int>();
        while (ip.DataFork.Count > ip.DataForkMaxExtents / 2)
        {
            ulong off = (ulong)rng.NextInt64(0, 2 * records);
            ulong len = (ulong)rng.Next(1, 60);
            Unmap(fs.Mount, ip, off, len);
            for (ulong b = off; b < off + len; b++)
                model.Unmap(b);
            levels.Add(ip.DataFork.Btree?.RootLevel ?? 0);
            if (++step % 25 == 0)
                Check(ip, model, $"punch {step} ({off}+{len})", 2 * records);
            if (step % 200 == 0)
            {
                // A fresh mount re-reads every block and checks keys, siblings and fill.
                ip = Reread(fs, ip.Ino);
                Check(ip, model, $"punch {step} read back", 2 * records);
            }
        }
        Check(ip, model, "the end", 2 * records);
        Assert.That(levels, Is.EquivalentTo(new[] { 0, 1, 2 }));
        XfsSpaceAudit.Run(fs.Device.Device, agno => OwnedBlocks(ip).Where(b => b.AgNo == agno).Select(b => (b.Start, b.Length)));
    }

    private static void Check(XfsInode ip, BmapModel model, string when, ulong span = Span + 300)
    {
        var actual = BmapModel.Describe(Read(ip, 0, span));
        var expected = model.Describe(0, span);
        Assert.That(actual, Is.EqualTo(expected), when);
        var fork = ip.DataFork;
        // Neighbouring records never continue each other (XFS merges them), and the format fits the count.
        for (int i = 1; i < fork.Count; i++)
        {
            var a = fork.Extents[i - 1];
            var b = fork.Extents[i];
            bool continues = a.StartOff + a.BlockCount == b.StartOff && a.StartBlock + a.BlockCount == b.StartBlock && a.Unwritten == b.Unwritten;
            Assert.That(continues, Is.False, $"{when}: records {i - 1} and {i} should have merged");
        }
        Assert.That(fork.Format, Is.EqualTo(fork.Count > ip.DataForkMaxExtents ? XfsDinodeFormat.Btree : XfsDinodeFormat.Extents), when);
        ulong treeBlocks = (ulong)(fork.Btree?.BlockCount ?? 0);
        Assert.That(ip.Core.NBlocks, Is.EqualTo((ulong)model.Count + treeBlocks), $"{when}: di_nblocks");
        Assert.That(model.PhysicalBlocks.Distinct().Count(), Is.EqualTo(model.Count), $"{when}: a block is mapped twice");
    }
}
