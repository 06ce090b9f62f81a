using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>
/// A directory big enough for a second dabtree level (the root node holds 504 leaves, so about
/// 190,000 names): root node splits, interior node joins and root collapses. Minutes of work on
/// the shared machine, so it runs only when asked for by name.
/// </summary>
public class XfsDirectoryDeepTreeTests
{
    [Test]
    [Explicit("adds and removes 200,000 names (about a minute)")]
    public void TwoHundredThousandNamesGrowASecondDabtreeLevelAndShrinkBack()
    {
        using var rig = DirTestRig.Create();
        ulong free = rig.FreeBlocks;
        const int count = 200_000;
        for (int i = 0; i < count; i++)
            rig.Add($"n{i:D7}", 1000 + (ulong)i);
        var root = rig.Run(tp => XfsDirectoryCheck.Check(tp, rig.Dir));
        Assert.That(root.Problems, Is.Empty);
        Assert.That(root.Entries, Has.Count.EqualTo(count + 2));
        ulong leafBlk = XfsDir2Format.LeafBlock(4096);
        var level = rig.Run(tp =>
        {
            var b = tp.ReadBuffer(rig.Fs.Mount.Geometry.AgBlockToDaddr(
                rig.Fs.Mount.Geometry.FsbToAgno(rig.Dir.Map[leafBlk]), rig.Fs.Mount.Geometry.FsbToAgbno(rig.Dir.Map[leafBlk])), 4096, DaxStack.Fs.Xfs.Buffers.XfsDa3NodeBufferOps.Instance);
            return XfsDa3NodeBlock.ReadFrom(b.Data, "root").Level;
        });
        Assert.That(level, Is.EqualTo(2), "root level");
        var rng = new Random(5);
        var order = Enumerable.Range(0, count).OrderBy(_ => rng.Next()).ToList();
        for (int k = 0; k < count; k++)
        {
            rig.Remove($"n{order[k]:D7}");
            if (k % 40_000 == 0)
                Assert.That(rig.Check().Problems, Is.Empty, $"after {k} removals");
        }
        Assert.Multiple(() =>
        {
            Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Shortform));
            Assert.That(rig.FreeBlocks, Is.EqualTo(free));
        });
    }
}
