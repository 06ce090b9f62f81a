using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Repair;

namespace DaxStack.Fs.Tests.Xfs.Repair;

/// <summary>The checker's extension points: per-inode invariants (seals, i_mapdcount) and the directory checker.</summary>
[NonParallelizable]
public class XfsCheckerSeamTests
{
    /// <summary>Flags every inode whose generation number is odd: a stand-in for a DaxStack-only invariant.</summary>
    private sealed class OddGenerationCheck : IXfsInodeCheck
    {
        public List<ulong> Seen { get; } = [];

        public IEnumerable<string> Check(XfsMetadataReader reader, XfsDinode inode)
        {
            Seen.Add(inode.Ino);
            if (inode.Gen % 2 == 1)
                yield return $"generation {inode.Gen} is odd";
        }
    }

    /// <summary>Lists every directory as the short-form checker does but reports one problem for each.</summary>
    private sealed class FussyDirectoryChecker : IXfsDirectoryChecker
    {
        private readonly XfsShortformDirectoryChecker _inner = new();

        public XfsDirectoryListing List(XfsMetadataReader reader, XfsDinode directory)
        {
            var listing = _inner.List(reader, directory);
            return new XfsDirectoryListing
            {
                Checked = listing.Checked,
                Complete = listing.Complete,
                Parent = listing.Parent,
                Entries = listing.Entries,
                Problems = ["hash order wrong (test checker)"],
            };
        }
    }

    [Test]
    public void AnInodeCheckRunsOnEveryAllocatedInodeAndItsProblemsAreErrors()
    {
        using var rig = RepairRig.OurMkfs();
        ulong root = rig.Inspect(r => r.Superblock.RootIno);
        rig.PatchInode(root, b => Be.Put32(b, 92, 7));
        var check = new OddGenerationCheck();
        var report = rig.Check(new XfsRepairOptions { InodeChecks = [check] });
        ulong rbm = rig.Inspect(r => r.Superblock.RbmIno), rsum = rig.Inspect(r => r.Superblock.RsumIno);
        Assert.Multiple(() =>
        {
            Assert.That(check.Seen, Is.EquivalentTo(new[] { root, rbm, rsum }));
            Assert.That(report.Errors.Select(e => e.ToString()), Does.Contain($"inode {root}: generation 7 is odd"));
            Assert.That(report.HasErrorIn("inode"), Is.True);
        });
    }

    [Test]
    public void ADirectoryCheckerPluggedInIsAskedForEveryDirectoryAndItsProblemsAreErrors()
    {
        using var rig = RepairRig.OurMkfs();
        ulong root = rig.Inspect(r => r.Superblock.RootIno);
        var report = rig.Check(new XfsRepairOptions { DirectoryChecker = new FussyDirectoryChecker() });
        Assert.That(report.Errors.Select(e => e.ToString()), Is.EqualTo(new[] { $"directory {root}: hash order wrong (test checker)" }));
    }

    [Test]
    public void ErrorsBeyondTheLimitAreCountedNotListed()
    {
        using var rig = RepairRig.OurMkfs();
        ulong fd = rig.Inspect(r => r.Superblock.FdBlocks);
        ulong root = rig.Inspect(r => r.Superblock.RootIno);
        rig.PatchSector(0, 0, XfsFormat.SuperblockCrcOffset, s => Be.Put64(s, 144, fd + 1));
        rig.PatchInode(root, b => Be.Put32(b, 16, 5));
        var report = rig.Check(new XfsRepairOptions { MaxProblems = 1 });
        Assert.Multiple(() =>
        {
            Assert.That(report.Errors.Count(), Is.EqualTo(1));
            Assert.That(report.Dropped, Is.EqualTo(1));
            Assert.That(report.IsClean, Is.False);
        });
    }
}
