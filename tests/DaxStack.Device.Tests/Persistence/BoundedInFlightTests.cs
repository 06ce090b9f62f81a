using DaxStack.Device.Crash;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Persistence;

/// <summary>
/// The persistence model's memory stays bounded whatever a workload leaves unfenced: past
/// <see cref="NvdimmRegion.MaxInFlightLines"/> lines (or too much store history) it writes pages
/// back on its own, and a CPU's outstanding write-backs complete on their own past
/// <see cref="Cpu.MaxPendingRuns"/>. Both are states real hardware can reach (a line may always
/// persist before its fence), so a crash still leaves each line old or new, never torn.
/// </summary>
public class BoundedInFlightTests
{
    [Test]
    public void UnfencedStoresBeyondTheBudgetAreWrittenBackAndTheRestStayInFlight()
    {
        long lines = NvdimmRegion.MaxInFlightLines * 2;
        using var d = new DeviceFixture(size: lines * 64);
        var chunk = DeviceFixture.Fill(1 << 20, 0x5A);
        for (long off = 0; off < lines * 64; off += chunk.Length)
            d.Cpu.Store(d.Pa(off), chunk);

        Assert.That(d.Region.InFlightLineCount, Is.InRange(1, NvdimmRegion.MaxInFlightLines));
        Assert.That(d.Region.EvictedLineCount, Is.GreaterThanOrEqualTo(lines - NvdimmRegion.MaxInFlightLines));

        long inFlight = d.Region.InFlightLineCount;
        d.Space.Crash(CrashPolicy.Strict);
        long kept = 0, lost = 0;
        var line = new byte[64];
        for (long off = 0; off < lines * 64; off += 64)
        {
            d.Cpu.Load(d.Pa(off), line);
            if (line.All(b => b == 0x5A))
                kept++;
            else if (line.All(b => b == 0))
                lost++;
            else
                Assert.Fail($"line at {off} is torn after a strict crash");
        }
        Assert.That(lost, Is.EqualTo(inFlight), "exactly the lines still in flight are lost");
        Assert.That(kept, Is.EqualTo(lines - inFlight));
    }

    [Test]
    public void StoringTheSameLinesAgainAndAgainWithoutAFenceKeepsTheHistoryBounded()
    {
        // Each pass adds one history entry per line; without a bound 40 passes over 64K lines
        // would keep 2.6 M entries. With it the oldest pages are written back.
        using var d = new DeviceFixture(size: 4 << 20);
        var chunk = new byte[4 << 20];
        for (int pass = 1; pass <= 40; pass++)
        {
            Array.Fill(chunk, (byte)pass);
            d.Cpu.Store(d.Pa(0), chunk);
        }
        Assert.That(d.Region.EvictedLineCount, Is.Positive);
        d.Space.Crash(CrashPolicy.Random(7));
        var after = d.Load(0, 4 << 20);
        for (int off = 0; off < after.Length; off += 8)
        {
            byte v = after[off];
            Assert.That(after.AsSpan(off, 8).ToArray(), Is.All.EqualTo(v), $"word at {off} is torn");
            Assert.That(v, Is.InRange(0, 40));
        }
    }

    [Test]
    public void OutstandingWriteBacksBeyondTheCpuLimitCompleteOnTheirOwn()
    {
        int count = Cpu.MaxPendingRuns * 2;
        using var d = new DeviceFixture(size: count * 128L);
        var a = DeviceFixture.Fill(64, 0xA1);
        for (int i = 0; i < count; i++)
        {
            // Every other line, so no two write-backs merge into one run.
            d.Cpu.Store(d.Pa(i * 128L), a);
            d.Cpu.Clwb(d.Pa(i * 128L));
        }
        long inFlight = d.Region.InFlightLineCount;
        Assert.That(inFlight, Is.InRange(1, count - 1), "the oldest write-backs completed without a fence");
        Assert.That(d.Persisted(0, 64), Is.EqualTo(a), "the first write-back is among them");
        Assert.That(d.Persisted((count - 1) * 128L, 64), Is.All.Zero, "the newest is still waiting for its fence");

        d.Cpu.Sfence();
        Assert.That(d.Region.InFlightLineCount, Is.Zero);
        Assert.That(d.Persisted((count - 1) * 128L, 64), Is.EqualTo(a));
    }
}
