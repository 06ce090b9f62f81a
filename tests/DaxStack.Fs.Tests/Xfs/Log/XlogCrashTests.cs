using DaxStack.Device.Crash;
using DaxStack.Fs.Xfs.Log;

namespace DaxStack.Fs.Tests.Xfs.Log;

/// <summary>Power failures at the end of a logging workload: forced transactions survive, none comes back partial.</summary>
public class XlogCrashTests
{
    private sealed record Workload(List<(ulong Start, XlogTransaction T)> Sent, int Forced, ulong Tail);

    // Appends transactions of random size, forcing now and then and moving the tail when the
    // log fills, and ends with some unforced appends (several of them in filled, written records).
    private static Workload Run(LogRig rig, int seed, int count)
    {
        var writer = rig.Writer();
        var rng = new Random(seed);
        var sent = new List<(ulong, XlogTransaction)>();
        int forced = 0;
        for (uint tid = 1; tid <= count; tid++)
        {
            var t = LogRig.Transaction(tid, rng, rng.Next(1, 4), rng.Next(2) == 0 ? 200 : 9000);
            var status = writer.Append(t, out ulong start);
            if (status == XlogStatus.LogFull)
            {
                Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
                forced = sent.Count;
                writer.MoveTail(sent[^1].Item1);
                status = writer.Append(t, out start);
            }
            Assert.That(status, Is.EqualTo(XlogStatus.Ok), $"append {tid}");
            sent.Add((start, t));
            if (tid < count - 6 && rng.Next(5) == 0)
            {
                Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
                forced = sent.Count;
            }
        }
        return new Workload(sent, forced, writer.TailLsn);
    }

    // The recovered transactions are consecutive ones, exactly as sent, from at most the tail's
    // first to at least the last forced one.
    private static int Check(XlogRecovery r, Workload w, string what)
    {
        var got = r.Transactions.Select(c => c.Transaction).ToList();
        Assert.That(got, Is.Not.Empty, what);
        int first = (int)got[0].Tid - 1;
        int firstAfterTail = w.Sent.FindIndex(x => x.Start >= w.Tail);
        Assert.That(first, Is.LessThanOrEqualTo(firstAfterTail), $"{what}: replay starts at or before the tail");
        for (int i = 0; i < got.Count; i++)
            LogRig.AssertSame(got[i], w.Sent[first + i].T);
        int end = first + got.Count;
        Assert.That(end, Is.GreaterThanOrEqualTo(w.Forced), $"{what}: every forced transaction is back");
        return end;
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void AStrictCrashKeepsExactlyTheForcedTransactions(int seed)
    {
        using var rig = LogRig.Create(600);
        var w = Run(rig, seed, 120);
        Assert.That(w.Sent, Has.Count.GreaterThan(w.Forced), "some transactions were not forced");
        rig.Dev.Bus.Space.Crash(CrashPolicy.Strict);
        var r = rig.Read();
        Assert.That(Check(r, w, "strict"), Is.EqualTo(w.Forced));
        Assert.That(r.HeadCycle, Is.GreaterThanOrEqualTo(2u), "the workload wrapped the log");
    }

    [Test]
    public void ARandomCrashNeverLosesAForcedTransactionNorReturnsAPartialOne([Range(0, 99)] int seed)
    {
        using var rig = LogRig.Create(600);
        var w = Run(rig, 1000 + seed, 100);
        rig.Dev.Bus.Space.Crash(CrashPolicy.Random(seed));
        var r = rig.Read();
        int end = Check(r, w, $"random:{seed}");

        // The log continues after recovery: a new forced transaction follows the recovered ones,
        // or, when the log is full, follows nothing once recovery has written them home.
        var writer = rig.Writer();
        var next = LogRig.Transaction(1000, new Random(seed), 2);
        var expected = r.Transactions.Select(c => c.Transaction).ToList();
        var status = writer.Append(next, out _);
        if (status == XlogStatus.LogFull)
        {
            writer.MoveTail(writer.HeadLsn);
            expected.Clear();
            status = writer.Append(next, out _);
        }
        Assert.That(status, Is.EqualTo(XlogStatus.Ok));
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        Assert.That(end, Is.LessThanOrEqualTo(w.Sent.Count));
        LogRig.AssertSame(rig.Read().Transactions, [.. expected, next]);
    }

    [Test]
    public void AMovedTailReachesTheMediaBeforeTheSpaceItFreesIsReused()
    {
        using var rig = LogRig.Create(300);
        var writer = rig.Writer();
        var rng = new Random(9);
        uint tid = 1;
        while (writer.Append(LogRig.Transaction(tid, rng, 2, 4000), out _) == XlogStatus.Ok)
            tid++;
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        ulong moved = writer.HeadLsn;
        writer.MoveTail(moved);
        var next = LogRig.Transaction(tid, rng, 2, 4000);
        Assert.That(writer.Append(next, out _), Is.EqualTo(XlogStatus.Ok), "room once the moved tail is on disk");

        // Unforced, the new transaction is lost, but the log still has a tail to start from.
        rig.Dev.Bus.Space.Crash(CrashPolicy.Strict);
        var r = rig.Read();
        Assert.Multiple(() =>
        {
            Assert.That(r.TailLsn, Is.EqualTo(moved));
            Assert.That(r.Transactions, Is.Empty);
        });
    }
}
