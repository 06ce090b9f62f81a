using CsCheck;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Ialloc;

/// <summary>
/// Random inode allocations (with parents in either AG, directories, batches in one
/// transaction, some cancelled) and frees against the set of allocated inode numbers, with and
/// without ikeep. After every step the inode B+trees on the media must say exactly the model's
/// inodes are in use, the finobt must hold exactly the chunks with a free inode, AGI and
/// superblock inode counts must be exact, chunks must sit on the inode alignment, and every
/// block must be owned once (so chunks freed went back to free space).
/// </summary>
public class XfsIallocModelTests
{
    /// <summary>One step. Kind: below 50 allocate Count inodes, below 80 free one, below 92 free every used inode of one chunk, else allocate and cancel.</summary>
    public readonly record struct Step(int Kind, int Parent, int Count, int Pick);

    private static readonly Gen<Step> StepGen =
        Gen.Select(Gen.Int[0, 99], Gen.Int[0, 3], Gen.Frequency((6, Gen.Int[1, 3]), (1, Gen.Int[40, 90])), Gen.Int[0, int.MaxValue])
            .Select(t => new Step(t.Item1, t.Item2, t.Item3, t.Item4));

    [Test]
    public void RandomInodeAllocationsAndFreesKeepBothInodeTreesAndEveryCounterExact()
    {
        int chunksMade = 0, chunksFreed = 0;
        Gen.Select(Gen.Bool, StepGen.Array[40, 150]).Sample((ikeep, run) =>
        {
            using var fs = MetadataTestFs.Create(options: new XfsMountOptions { Ikeep = ikeep, GenerationSeed = 3 });
            ulong root = fs.Mount.Superblock.RootIno;
            var model = new HashSet<ulong> { root, root + 1, root + 2 };
            int chunks = 1;
            foreach (var step in run)
            {
                Apply(fs, model, step);
                int now = Check(fs, model);
                if (now > chunks)
                    chunksMade += now - chunks;
                else
                    chunksFreed += chunks - now;
                chunks = now;
            }
        }, iter: 8, threads: 1);
        TestContext.Out.WriteLine($"{chunksMade} chunks made, {chunksFreed} freed");
        Assert.That(chunksFreed, Is.Positive, "some runs should free whole chunks");
    }

    private static void Apply(MetadataTestFs fs, HashSet<ulong> model, Step step)
    {
        var mp = fs.Mount;
        var geo = mp.Geometry;
        ulong root = mp.Superblock.RootIno;
        var freeable = model.Where(i => i > root + 2).OrderBy(i => i).ToList();
        if (step.Kind is >= 50 and < 92 && freeable.Count > 0)
        {
            ulong ino = freeable[step.Pick % freeable.Count];
            // A whole chunk's worth in one transaction: the chunk itself goes (unless ikeep).
            using var tp = fs.Begin(XfsIalloc.FreeReservation(mp) * 64);
            var victims = step.Kind < 80 ? [ino] : freeable.Where(i => ChunkOf(tp, i) == ChunkOf(tp, ino)).ToList();
            foreach (ulong victim in victims)
                XfsIalloc.Free(tp, victim);
            tp.Commit();
            model.ExceptWith(victims);
            return;
        }
        ulong parent = step.Parent switch
        {
            0 => root,
            1 => geo.MakeIno(1, geo.AgBlockToAgino(4000)),
            2 => XfsFormat.NullFsIno,
            _ => model.ElementAt(step.Pick % model.Count),
        };
        int count = step.Kind >= 92 ? 1 : step.Count;
        var got = new List<ulong>();
        using (var tp = fs.Begin((uint)((count / 64 + 2) * XfsIalloc.AllocateReservation(mp))))
        {
            for (int i = 0; i < count; i++)
                got.Add(XfsIalloc.Allocate(tp, parent, directory: step.Parent == 2));
            Assert.That(got.Distinct().Count(), Is.EqualTo(count), "one transaction handed out an inode twice");
            if (step.Kind >= 92)
            {
                tp.Cancel();
                return;
            }
            tp.Commit();
        }
        foreach (ulong ino in got)
            Assert.That(model.Add(ino), Is.True, $"inode {ino} was handed out while in use");
    }

    /// <summary>The first inode of the chunk holding <paramref name="ino"/>, from the inode B+tree.</summary>
    private static ulong ChunkOf(XfsTransaction tp, ulong ino)
    {
        var geo = tp.Mount.Geometry;
        var cur = new XfsBtreeCursor<XfsInobtRecord>(tp, geo.InoToAgno(ino), XfsInobtOps.Ino);
        Assert.That(cur.LookupLe(new XfsInobtRecord(geo.InoToAgino(ino), 0, 0)), Is.True);
        return geo.MakeIno(geo.InoToAgno(ino), cur.GetRecord().StartIno);
    }

    /// <summary>Audits the media and compares the inodes in use with the model; returns the number of chunks.</summary>
    private static int Check(MetadataTestFs fs, HashSet<ulong> model)
    {
        var geo = fs.Mount.Geometry;
        var ags = XfsSpaceAudit.Run(fs.Device.Device);
        var inUse = new HashSet<ulong>();
        for (uint agno = 0; agno < ags.Count; agno++)
        {
            foreach (var r in ags[(int)agno].Inodes)
            {
                for (int i = 0; i < 64; i++)
                {
                    if ((r.Free & (1UL << i)) == 0)
                        inUse.Add(geo.MakeIno(agno, r.StartIno + (uint)i));
                }
            }
        }
        Assert.That(inUse, Is.EquivalentTo(model));
        return ags.Sum(a => a.Inodes.Count);
    }
}
