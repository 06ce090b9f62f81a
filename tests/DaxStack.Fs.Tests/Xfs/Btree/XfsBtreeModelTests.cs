using CsCheck;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Btree;

/// <summary>
/// Random inserts and deletes (some in transactions that are cancelled) against a sorted set:
/// after every step the tree on the media holds exactly the set's keys in order, with every
/// block within its entry limits, siblings linked, node keys right and the AGF's height and
/// block count exact; at the end every block of the filesystem is owned once.
/// </summary>
public class XfsBtreeModelTests
{
    private const uint Ag = 1;

    /// <summary>One step: insert-or-delete a key (Kind below the insert percentage), delete the n-th key, or (Kind 92 and up) insert and cancel.</summary>
    public readonly record struct Step(int Kind, uint Key);

    private const int CancelFrom = 92;

    private static readonly Gen<Step> StepGen = Gen.Select(Gen.Int[0, 99], Gen.UInt[1, 3000], (k, key) => new Step(k, key));

    [TestCase(4, 4, 400, 60, 3)]
    [TestCase(5, 6, 400, 60, 3)]
    [TestCase(0, 0, 900, 88, 2)]
    public void RandomInsertsAndDeletesKeepTheTreeEqualToASortedSet(int leafMax, int nodeMax, int steps, int insertPercent, int minHeight)
    {
        XfsBtreeOps<XfsRefcountRecord> ops = leafMax == 0 ? XfsRefcountBtreeOps.Instance : new SmallFanoutRefcountOps(leafMax, nodeMax);
        (int, int)? limits = leafMax == 0 ? null : (leafMax, nodeMax);
        int tallest = 1;
        StepGen.Array[steps / 2, steps].Sample(run =>
        {
            using var fs = MetadataTestFs.Create();
            var model = new SortedSet<uint>();
            foreach (var step in run)
            {
                Apply(fs, ops, model, step, insertPercent);
                tallest = Math.Max(tallest, CheckAgainstModel(fs, model, limits));
            }
            XfsSpaceAudit.Run(fs.Device.Device, refcountLimits: limits);
        }, iter: 6, threads: 1);
        Assert.That(tallest, Is.GreaterThanOrEqualTo(minHeight), $"the runs should grow a tree of {minHeight} levels or more");
    }

    private static void Apply(MetadataTestFs fs, XfsBtreeOps<XfsRefcountRecord> ops, SortedSet<uint> model, Step step, int insertPercent)
    {
        using var tp = fs.Begin(32);
        var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, ops);
        var rec = new XfsRefcountRecord(step.Key, 1, 2);
        if (step.Kind < insertPercent || model.Count == 0)
        {
            if (model.Contains(step.Key))
            {
                Assert.That(cur.LookupEq(rec), Is.True, $"key {step.Key} should be in the tree");
                cur.Delete();
                model.Remove(step.Key);
            }
            else
            {
                cur.Insert(rec);
                model.Add(step.Key);
            }
            tp.Commit();
        }
        else if (step.Kind < CancelFrom)
        {
            uint key = model.ElementAt((int)(step.Key % (uint)model.Count));
            Assert.That(cur.LookupEq(new XfsRefcountRecord(key, 1, 2)), Is.True, $"key {key} should be in the tree");
            cur.Delete();
            model.Remove(key);
            tp.Commit();
        }
        else if (!model.Contains(step.Key))
        {
            // Changed and then cancelled: the tree must be exactly as before.
            cur.Insert(rec);
            tp.Cancel();
        }
    }

    private static int CheckAgainstModel(MetadataTestFs fs, SortedSet<uint> model, (int Leaf, int Node)? limits)
    {
        var reader = XfsMetadataReader.Open(fs.Device.Device);
        var agf = reader.ReadAgf(Ag);
        var problems = new List<string>();
        var walk = XfsSpaceAudit.WalkTree(reader, XfsBtreeKind.Refcount, Ag, agf.RefcountRoot, (int)agf.RefcountLevel, problems,
            limits?.Leaf ?? 0, limits?.Node ?? 0);
        var keys = walk.Records.Select(r => XfsRefcountRecord.ReadFrom(r).StartBlock);
        Assert.Multiple(() =>
        {
            Assert.That(problems, Is.Empty);
            Assert.That(keys, Is.EqualTo(model));
            Assert.That(agf.RefcountBlocks, Is.EqualTo((uint)walk.Blocks.Count));
        });
        return (int)agf.RefcountLevel;
    }
}
