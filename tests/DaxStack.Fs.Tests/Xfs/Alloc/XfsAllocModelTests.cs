using CsCheck;
using DaxStack.Device.Errors;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Alloc;

/// <summary>
/// Random sequences of allocations (any, near, exact; with alignment) and frees of random parts
/// of what was allocated, some in cancelled transactions, against the set of extents the test
/// owns. After every step the on-media audit must find bnobt and cntbt holding the same
/// extents, every AGF and superblock counter exact, and every block owned exactly once (so the
/// free space is exactly the complement of what the test owns and the filesystem's own
/// metadata). Each allocation must satisfy its request, and an allocation may fail only when the
/// AG really cannot supply it.
/// </summary>
public class XfsAllocModelTests
{
    /// <summary>One step. Kind: below 55 allocate, below 90 free part of an owned extent, else allocate and cancel.</summary>
    public readonly record struct Step(int Kind, uint Ag, int Type, uint MinLen, uint Extra, uint Alignment, uint Target, int Pick);

    private static readonly Gen<Step> StepGen =
        Gen.Select(Gen.Int[0, 99], Gen.UInt[0, 1], Gen.Int[0, 2], Gen.UInt[1, 8],
                Gen.Frequency((5, Gen.UInt[0, 40]), (1, Gen.UInt[500, 3000])), // now and then a big request, to run AGs out of space
                Gen.OneOfConst(1u, 1u, 1u, 2u, 4u, 8u), Gen.UInt[1, 8191], Gen.Int[0, int.MaxValue])
            .Select(t => new Step(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7, t.Item8));

    [Test]
    public void RandomAllocationsAndFreesKeepBothTreesAndEveryCounterExact()
    {
        int failures = 0;
        StepGen.Array[60, 200].Sample(run =>
        {
            using var fs = MetadataTestFs.Create();
            var owned = new OwnedExtents();
            var ags = XfsSpaceAudit.Run(fs.Device.Device);
            foreach (var step in run)
            {
                if (!Apply(fs, owned, ags, step))
                    failures++;
                ags = XfsSpaceAudit.Run(fs.Device.Device, owned.In);
            }
        }, iter: 8, threads: 1);
        TestContext.Out.WriteLine($"{failures} requests the AGs could not supply");
    }

    [Test]
    public void ALongRunOfSmallAllocationsGrowsTwoLevelTreesAndKeepsEveryInvariant()
    {
        using var fs = MetadataTestFs.Create();
        var owned = new OwnedExtents();
        var rng = new Random(20261130);
        var ags = XfsSpaceAudit.Run(fs.Device.Device);
        int tallest = 1;
        for (int i = 0; i < 4000; i++)
        {
            // Mostly single blocks near random targets, freed in random order: free space
            // fragments into hundreds of extents.
            var step = new Step(rng.Next(100) < 62 ? 0 : 60, (uint)rng.Next(2), 1, 1, (uint)rng.Next(2), 1, (uint)rng.Next(1, 8192), rng.Next());
            Apply(fs, owned, ags, step);
            if (i % 200 == 199)
            {
                ags = XfsSpaceAudit.Run(fs.Device.Device, owned.In);
                tallest = Math.Max(tallest, (int)ags.Max(a => Math.Max(a.Agf.BnoLevel, a.Agf.CntLevel)));
            }
        }
        Assert.That(tallest, Is.EqualTo(2), "the free-space trees should have grown a second level");
    }

    /// <summary>Runs one step; false when an allocation found no space.</summary>
    private static bool Apply(MetadataTestFs fs, OwnedExtents owned, List<XfsSpaceAudit.AgContents> before, Step step)
    {
        if (step.Kind is >= 55 and < 90 && owned.Count > 0)
        {
            var e = owned.All[step.Pick % owned.Count];
            uint offset = (uint)(step.Pick / 7 % e.Length);
            uint length = 1 + (uint)(step.Pick / 131 % (e.Length - offset));
            using var tp = fs.Begin();
            XfsAlloc.Free(tp, e.AgNo, e.AgBno + offset, length);
            tp.Commit();
            owned.Release(e.AgNo, e.AgBno + offset, length);
            return true;
        }
        uint minlen = step.MinLen, maxlen = step.MinLen + step.Extra;
        var request = step.Type switch
        {
            0 => XfsAllocRequest.Any(step.Ag, minlen, maxlen, step.Alignment),
            1 => XfsAllocRequest.Near(step.Ag, step.Target, minlen, maxlen, step.Alignment),
            _ => XfsAllocRequest.Exact(step.Ag, step.Target, minlen, maxlen),
        };
        // The transaction reserves what the filesystem can give (ENOSPC up front below minlen);
        // the allocation is then clamped to the reservation.
        ulong available = fs.Mount.FreeBlocksAvailable;
        if (available < minlen)
        {
            Assert.That(Assert.Throws<XfsException>(() => fs.Begin(minlen))!.Errno, Is.EqualTo(Errno.ENOSPC));
            return false;
        }
        using (var tp = fs.Begin((uint)Math.Min(maxlen, available)))
        {
            if (!XfsAlloc.TryAllocate(tp, request, out var got))
            {
                Assert.That(MustSucceed(fs, before[(int)step.Ag], request), Is.False, $"{request} failed though the AG could supply it");
                tp.Commit();
                return false;
            }
            CheckSatisfies(request, got);
            Assert.That(got.Length, Is.LessThanOrEqualTo(tp.BlocksReserved));
            if (step.Kind >= 90)
            {
                tp.Cancel();
                return true;
            }
            tp.Commit();
            owned.Add(got);
        }
        return true;
    }

    private static void CheckSatisfies(XfsAllocRequest request, XfsAgExtent got)
    {
        Assert.Multiple(() =>
        {
            Assert.That(got.AgNo, Is.EqualTo(request.AgNo));
            Assert.That(got.Length, Is.InRange(request.MinLen, request.MaxLen), $"{request} got {got}");
            if (request.Type == XfsAllocType.ThisBno)
                Assert.That(got.AgBno, Is.EqualTo(request.AgBno), $"{request} got {got}");
            else
                Assert.That(got.AgBno % request.Alignment, Is.Zero, $"{request} got {got}");
        });
    }

    /// <summary>
    /// Whether the AG, as the audit saw it before the step, clearly can supply an any or near
    /// request: the free-space check XFS applies passes, and some free extent holds the aligned
    /// request even after refilling the AGFL took blocks from it.
    /// </summary>
    private static bool MustSucceed(MetadataTestFs fs, XfsSpaceAudit.AgContents ag, XfsAllocRequest request)
    {
        if (request.Type == XfsAllocType.ThisBno)
            return false;
        var agf = ag.Agf;
        uint need = XfsAlloc.MinFreeList(fs.Mount, agf);
        long slack = request.MinLen + request.Alignment - 1;
        long deficit = Math.Max(0, (long)need - agf.FlCount);
        long available = (long)agf.FreeBlks + Math.Min(agf.FlCount, need) - need;
        bool longEnough = ag.Free.Any(e => e.BlockCount >= slack + need);
        return available >= slack && agf.Longest - deficit >= slack && longEnough;
    }
}
