using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Bmap;
using DaxStack.Fs.Tests.Xfs.Mount;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Files;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.Repair;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Inode;

/// <summary>The unlinked lists as real xfsprogs read them: xfs_db's AGI and inode fields, and xfs_repair -n before and after the lists are processed.</summary>
[NonParallelizable]
public class XfsIunlinkInteropTests
{
    private string _dir = "";

    [SetUp]
    public void MakeDirectory() => _dir = Directory.CreateTempSubdirectory("daxstack-iunlink-").FullName;

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_dir, recursive: true);

    // Three files in the root of an image, two of them unlinked while open (still on the lists).
    private static (List<XfsInode> Unlinked, XfsInode Kept) UnlinkedOnImage(MetadataTestFs fs)
    {
        var mp = fs.Mount;
        var a = RootLinks.CreateFile(mp, "a");
        var b = RootLinks.CreateFile(mp, "b");
        var kept = RootLinks.CreateFile(mp, "kept");
        XfsFileIo.Write(a, 0, UnlinkOps.Pattern(20_000, 1));
        XfsFileIo.Write(b, 0, UnlinkOps.Pattern(7_000, 2));
        UnlinkOps.Unlink(mp, "a", a);
        UnlinkOps.Unlink(mp, "b", b);
        return ([a, b], kept);
    }

    [Test]
    public void XfsDbReadsTheBucketHeadsAndTheInodeChains()
    {
        string image = FsTestDevice.SparseImage(_dir, "fs.img", 64L << 20);
        List<XfsInode> unlinked;
        using (var fs = MetadataTestFs.CreateOnImage(image))
        {
            unlinked = UnlinkedOnImage(fs).Unlinked;
            // Put a second inode in the same bucket as the first so a chain shows.
            var same = UnlinkOps.CreateInodes(fs.Mount, 64).First(ip => XfsIunlink.BucketOf(fs.Mount.Geometry.InoToAgino(ip.Ino)) == XfsIunlink.BucketOf(fs.Mount.Geometry.InoToAgino(unlinked[0].Ino)));
            UnlinkOps.DropLink(fs.Mount, same);
            unlinked.Add(same);
        }
        var geo = unlinked[0].Mount.Geometry;
        uint a = geo.InoToAgino(unlinked[0].Ino), b = geo.InoToAgino(unlinked[1].Ino), s = geo.InoToAgino(unlinked[2].Ino);
        var agi = XfsProgs.DbFields(image, "agi 0");
        var heads = agi["unlinked[0-63]"].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        Assert.That(heads, Is.EquivalentTo(new[] { $"{XfsIunlink.BucketOf(s)}:{s}", $"{XfsIunlink.BucketOf(b)}:{b}" }));
        Assert.Multiple(() =>
        {
            Assert.That(XfsProgs.DbFields(image, $"inode {unlinked[2].Ino}")["next_unlinked"], Is.EqualTo($"{a}"));
            Assert.That(XfsProgs.DbFields(image, $"inode {unlinked[0].Ino}")["next_unlinked"], Is.EqualTo("null"));
            Assert.That(XfsProgs.DbFields(image, $"inode {unlinked[1].Ino}")["core.nlinkv2"], Is.EqualTo("0"));
        });
    }

    [Test]
    public void XfsRepairAndOurCheckerReportFilesLeftOnTheListsAtRest()
    {
        string image = FsTestDevice.SparseImage(_dir, "fs.img", 64L << 20);
        List<XfsInode> unlinked;
        using (var fs = MetadataTestFs.CreateOnImage(image))
            unlinked = UnlinkedOnImage(fs).Unlinked;
        // A clean kernel unmount never leaves this; xfs_repair -n says what it would do about it:
        // the bucket heads, then the inodes as disconnected with a wrong link count.
        var (status, output, error) = XfsProgs.RepairNoModify(image);
        var geo = unlinked[0].Mount.Geometry;
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1), output + error);
            foreach (var ip in unlinked)
            {
                uint agino = geo.InoToAgino(ip.Ino);
                Assert.That(output + error, Does.Contain($"agi unlinked bucket {XfsIunlink.BucketOf(agino)} is {agino} in ag 0 (inode={ip.Ino})"));
                Assert.That(output + error, Does.Contain($"disconnected inode {ip.Ino}, would move to lost+found"));
                Assert.That(output + error, Does.Contain($"would have reset inode {ip.Ino} nlinks from 0 to 1"));
            }
        });
        using var dev = FsTestDevice.Image(image, readOnly: true);
        var report = XfsChecker.Check(dev.Device);
        Assert.Multiple(() =>
        {
            Assert.That(report.HasErrorIn("agi 0"), Is.True, "the non-empty buckets");
            foreach (var ip in unlinked)
                Assert.That(report.HasErrorIn($"inode {ip.Ino}"), Is.True, $"inode {ip.Ino} in use with nlink 0");
        });
    }

    [Test]
    public void XfsRepairPassesAfterTheUnlinkedFilesAreInactivated()
    {
        string image = FsTestDevice.SparseImage(_dir, "fs.img", 64L << 20);
        using (var fs = MetadataTestFs.CreateOnImage(image))
        {
            var (unlinked, kept) = UnlinkedOnImage(fs);
            foreach (var ip in unlinked)
                Assert.That(XfsInactive.Inactivate(ip), Is.True);
            Assert.That(kept.InUse, Is.True);
        }
        XfsProgs.AssertRepairPasses(image, "after inactivation");
    }

    [Test]
    public void XfsRepairPassesAfterTheMountFreesFilesLeftOnTheLists()
    {
        string image = FsTestDevice.SparseImage(_dir, "fs.img", 64L << 20);
        using (var fs = MetadataTestFs.CreateOnImage(image))
            UnlinkedOnImage(fs);
        using (var fs = MountedFs.Open(image))
        {
            Assert.That(fs.Mount.RecoveredUnlinkedInodes, Is.EqualTo(2));
            fs.Mount.Unmount();
        }
        XfsProgs.AssertRepairPasses(image, "after mount-time recovery");
    }
}
