using DaxStack.Device.Errors;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Inode;

/// <summary>The AGI unlinked lists: insertion at the bucket head, removal anywhere, several AGs, and damaged lists.</summary>
public class XfsIunlinkTests
{
    // Five nameless files whose aginos share one bucket of AG 0 (inodes of five different chunks).
    private static List<XfsInode> SameBucket(XfsMount mp, int count = 5)
    {
        var all = UnlinkOps.CreateInodes(mp, 64 * count + 8);
        var geo = mp.Geometry;
        var group = all.GroupBy(ip => XfsIunlink.BucketOf(geo.InoToAgino(ip.Ino)))
            .First(g => g.Count() >= count && g.All(ip => geo.InoToAgno(ip.Ino) == 0));
        return [.. group.Take(count)];
    }

    private static uint Agino(XfsInode ip) => ip.Mount.Geometry.InoToAgino(ip.Ino);

    private static XfsInode DirectoryInAg(XfsMount mp, uint agno)
    {
        for (int i = 0; i < 8; i++)
        {
            var dir = UnlinkOps.CreateInodes(mp, 1, mode: XfsDinode.TypeDirectory | 0x1ED)[0];
            if (mp.Geometry.InoToAgno(dir.Ino) == agno)
                return dir;
        }
        Assert.Fail($"no directory landed in AG {agno}");
        return null!;
    }

    [Test]
    public void AddPutsEachInodeAtTheHeadOfItsBucketChainedToTheOldHead()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var files = SameBucket(mp);
        int bucket = XfsIunlink.BucketOf(Agino(files[0]));
        foreach (var ip in files)
            UnlinkOps.DropLink(mp, ip);
        var expected = files.Select(ip => ip.Ino).Reverse().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(UnlinkOps.Heads(mp, 0)[bucket], Is.EqualTo(Agino(files[^1])));
            Assert.That(UnlinkOps.List(mp, 0, bucket), Is.EqualTo(expected));
            Assert.That(files[0].Core.NextUnlinked, Is.EqualTo(XfsFormat.NullAgIno), "the first added is the tail");
            for (int i = 1; i < files.Count; i++)
                Assert.That(files[i].Core.NextUnlinked, Is.EqualTo(Agino(files[i - 1])));
            Assert.That(UnlinkOps.Heads(mp, 0).Count(h => h != XfsFormat.NullAgIno), Is.EqualTo(1), "other buckets stay empty");
        });
        // The lists are on disk, not only in core.
        fs.Remount();
        Assert.That(UnlinkOps.List(fs.Mount, 0, bucket), Is.EqualTo(expected));
    }

    [TestCase(0, TestName = "RemovingTheHeadLeavesTheRestChainedInOrder")]
    [TestCase(2, TestName = "RemovingAMiddleInodeLinksItsPredecessorToItsSuccessor")]
    [TestCase(4, TestName = "RemovingTheTailEndsTheListAtItsPredecessor")]
    public void RemoveTakesTheInodeOffWhereverItIs(int position)
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var files = SameBucket(mp);
        int bucket = XfsIunlink.BucketOf(Agino(files[0]));
        foreach (var ip in files)
            UnlinkOps.DropLink(mp, ip);
        var order = files.AsEnumerable().Reverse().ToList();
        var victim = order[position];
        using (var tp = XfsTransaction.Begin(mp))
        {
            XfsIunlink.Remove(tp, victim);
            tp.Commit();
        }
        order.RemoveAt(position);
        Assert.Multiple(() =>
        {
            Assert.That(victim.Core.NextUnlinked, Is.EqualTo(XfsFormat.NullAgIno));
            Assert.That(UnlinkOps.List(mp, 0, bucket), Is.EqualTo(order.Select(ip => ip.Ino).ToList()));
            Assert.That(UnlinkOps.Heads(mp, 0)[bucket], Is.EqualTo(Agino(order[0])));
        });
        fs.Remount();
        Assert.That(UnlinkOps.List(fs.Mount, 0, bucket), Is.EqualTo(order.Select(ip => ip.Ino).ToList()));
    }

    [Test]
    public void RemovingEveryInodeInAnyOrderEmptiesTheBucket()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var files = SameBucket(mp, 7);
        int bucket = XfsIunlink.BucketOf(Agino(files[0]));
        foreach (var ip in files)
            UnlinkOps.DropLink(mp, ip);
        var rng = new Random(7);
        var left = files.AsEnumerable().Reverse().ToList();
        while (left.Count > 0)
        {
            var victim = left[rng.Next(left.Count)];
            using (var tp = XfsTransaction.Begin(mp))
            {
                XfsIunlink.Remove(tp, victim);
                tp.Commit();
            }
            left.Remove(victim);
            Assert.That(UnlinkOps.List(mp, 0, bucket), Is.EqualTo(left.Select(ip => ip.Ino).ToList()));
        }
        Assert.That(UnlinkOps.Heads(mp, 0)[bucket], Is.EqualTo(XfsFormat.NullAgIno));
    }

    [Test]
    public void InodesOfDifferentAgsGoOnTheirOwnAgsLists()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var parent1 = DirectoryInAg(mp, 1);
        var inAg1 = UnlinkOps.CreateInodes(mp, 3, parent1);
        var inAg0 = UnlinkOps.CreateInodes(mp, 3);
        Assert.That(inAg1.Select(ip => mp.Geometry.InoToAgno(ip.Ino)), Is.All.EqualTo(1u), "files follow their parent's AG");
        Assert.That(inAg0.Select(ip => mp.Geometry.InoToAgno(ip.Ino)), Is.All.EqualTo(0u));
        foreach (var ip in inAg1.Concat(inAg0))
            UnlinkOps.DropLink(mp, ip);
        Assert.Multiple(() =>
        {
            foreach (var ip in inAg1.Concat(inAg0))
            {
                uint agno = mp.Geometry.InoToAgno(ip.Ino);
                Assert.That(UnlinkOps.List(mp, agno, XfsIunlink.BucketOf(Agino(ip))), Is.EqualTo(new[] { ip.Ino }), $"inode {ip.Ino}");
            }
            Assert.That(UnlinkOps.ListAll(mp), Is.EquivalentTo(inAg1.Concat(inAg0).Select(ip => ip.Ino)));
        });
        using (var tp = XfsTransaction.Begin(mp))
        {
            XfsIunlink.Remove(tp, inAg1[1]);
            XfsIunlink.Remove(tp, inAg0[0]);
            tp.Commit();
        }
        Assert.That(UnlinkOps.ListAll(mp), Is.EquivalentTo(new[] { inAg1[0].Ino, inAg1[2].Ino, inAg0[1].Ino, inAg0[2].Ino }));
    }

    [Test]
    public void DropLinkListsTheInodeOnlyWhenTheLastLinkGoes()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var ip = UnlinkOps.CreateInodes(mp, 1)[0];
        using (var tp = XfsTransaction.Begin(mp))
        {
            ip.Join(tp);
            ip.Core.Nlink = 2;
            ip.Log(tp);
            tp.Commit();
        }
        UnlinkOps.DropLink(mp, ip);
        Assert.That((ip.Core.Nlink, UnlinkOps.ListAll(mp).Count), Is.EqualTo((1u, 0)));
        UnlinkOps.DropLink(mp, ip);
        Assert.That((ip.Core.Nlink, UnlinkOps.ListAll(mp).Single()), Is.EqualTo((0u, ip.Ino)));
        var e = Assert.Throws<XfsCorruptionException>(() => UnlinkOps.DropLink(mp, ip));
        Assert.That((e!.Errno, e.Structure), Is.EqualTo((Errno.EUCLEAN, $"inode {ip.Ino}")));
    }

    [Test]
    public void ACancelledDropLinkLeavesTheListAndTheLinkCountAlone()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var ip = UnlinkOps.CreateInodes(mp, 1)[0];
        using (var tp = XfsTransaction.Begin(mp))
        {
            XfsInactive.DropLink(tp, ip);
            tp.Cancel();
        }
        Assert.Multiple(() =>
        {
            Assert.That(ip.Core.Nlink, Is.EqualTo(1u));
            Assert.That(ip.Core.NextUnlinked, Is.EqualTo(XfsFormat.NullAgIno));
            Assert.That(UnlinkOps.Heads(mp, 0), Is.All.EqualTo(XfsFormat.NullAgIno));
        });
    }

    [Test]
    public void AddingAnInodeAlreadyOnAListIsCorruption()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var ip = UnlinkOps.CreateInodes(mp, 1)[0];
        UnlinkOps.DropLink(mp, ip);
        using var tp = XfsTransaction.Begin(mp);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsIunlink.Add(tp, ip));
        Assert.That(e!.Structure, Is.EqualTo(XfsIunlink.BucketName(0, XfsIunlink.BucketOf(Agino(ip)))));
        Assert.That(e.Message, Does.Contain("already the head"));
    }

    [Test]
    public void AnInodeWithLinksCannotGoOnAList()
    {
        using var fs = MetadataTestFs.Create();
        var ip = UnlinkOps.CreateInodes(fs.Mount, 1)[0];
        using var tp = XfsTransaction.Begin(fs.Mount);
        Assert.Throws<InvalidOperationException>(() => XfsIunlink.Add(tp, ip));
    }

    private static readonly string[] Damage = ["loop", "self", "free", "wrongbucket", "outside", "linked", "missing"];

    [TestCaseSource(nameof(Damage))]
    public void ADamagedListIsRejectedNamingTheBucket(string damage)
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var files = SameBucket(mp, 3);
        var geo = mp.Geometry;
        int bucket = XfsIunlink.BucketOf(Agino(files[0]));
        foreach (var ip in files)
            UnlinkOps.DropLink(mp, ip);
        // The list is files[2] -> files[1] -> files[0].
        var spare = UnlinkOps.CreateInodes(mp, 64).First(ip => XfsIunlink.BucketOf(Agino(ip)) == bucket);
        string expected = damage switch
        {
            "loop" => "loops",
            "self" => "loops",
            "free" => "free",
            "wrongbucket" => "belongs in bucket",
            "outside" => "not an inode of AG 0",
            "linked" => "has 1 links",
            _ => "is not on the list",
        };
        XfsInode victim = files[0];
        switch (damage)
        {
            case "loop":
                // files[0] points back to the head: a walk for an inode not on the list would
                // go round forever unless it notices.
                UnlinkOps.SetNextUnlinked(mp, files[0], Agino(files[2]));
                victim = spare;
                break;
            case "self":
                UnlinkOps.SetNextUnlinked(mp, files[1], Agino(files[1]));
                break;
            case "free":
                UnlinkOps.SetNextUnlinked(mp, files[1], geo.InoToAgino(FreeInodeOf(mp, bucket)));
                break;
            case "wrongbucket":
                UnlinkOps.SetNextUnlinked(mp, files[1], Agino(files[0]) + 1);
                break;
            case "outside":
                UnlinkOps.SetNextUnlinked(mp, files[1], (uint)(Agino(files[0]) + 64 * 1_000_000));
                break;
            case "linked":
                UnlinkOps.SetNextUnlinked(mp, files[1], Agino(spare));
                break;
            default:
                victim = spare;
                using (var tp = XfsTransaction.Begin(mp))
                {
                    spare.Join(tp);
                    spare.Core.Nlink = 0;
                    spare.Log(tp);
                    tp.Commit();
                }
                break;
        }
        using (var tp = XfsTransaction.Begin(mp))
        {
            var e = Assert.Throws<XfsCorruptionException>(() => XfsIunlink.Remove(tp, victim));
            Assert.Multiple(() =>
            {
                Assert.That(e!.Errno, Is.EqualTo(Errno.EUCLEAN));
                Assert.That(e.Structure, Is.EqualTo($"agi 0 unlinked bucket {bucket}"));
                Assert.That(e.Message, Does.Contain(expected));
            });
        }
        if (damage != "missing")
        {
            var e = Assert.Throws<XfsCorruptionException>(() => UnlinkOps.List(mp, 0, bucket));
            Assert.That(e!.Structure, Is.EqualTo($"agi 0 unlinked bucket {bucket}"));
        }
    }

    // A free inode slot of an allocated chunk that hashes to the bucket.
    private static ulong FreeInodeOf(XfsMount mp, int bucket)
    {
        var geo = mp.Geometry;
        var ip = UnlinkOps.CreateInodes(mp, 64).First(i => XfsIunlink.BucketOf(geo.InoToAgino(i.Ino)) == bucket);
        using var tp = XfsTransaction.Begin(mp, DaxStack.Fs.Xfs.Ialloc.XfsIalloc.FreeReservation(mp));
        ip.Join(tp);
        ip.Core.Nlink = 0;
        XfsInodeAlloc.Free(tp, ip);
        tp.Commit();
        return ip.Ino;
    }

    [Test]
    public void ABucketHeadOutsideTheAgIsRejectedByAdd()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var ip = UnlinkOps.CreateInodes(mp, 1)[0];
        int bucket = XfsIunlink.BucketOf(Agino(ip));
        UnlinkOps.SetHead(mp, 0, bucket, 0xFFFFFF00u + (uint)bucket);
        using var tp = XfsTransaction.Begin(mp);
        ip.Join(tp);
        ip.Core.Nlink = 0;
        var e = Assert.Throws<XfsCorruptionException>(() => XfsIunlink.Add(tp, ip));
        Assert.That(e!.Structure, Is.EqualTo($"agi 0 unlinked bucket {bucket}"));
    }
}
