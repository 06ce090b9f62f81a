using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Platform;

/// <summary>
/// A region's lock is biased towards the first CPU that executes on it (that CPU enters without
/// an atomic instruction); a second CPU revokes the bias and inspection waits the owner out.
/// These tests drive the region from several threads at once: any lost exclusion shows up as a
/// wrong in-flight count, a corrupted store history or a persisted byte that is not the last one stored.
/// </summary>
public class RegionLockTests
{
    private const int Rounds = 200_000;

    [Test]
    public void ASecondCpuJoiningTheOwnerKeepsEveryPersistExact()
    {
        using var d = new DeviceFixture();
        // The first CPU takes the bias before the second one starts.
        Persist(d, d.Cpu, 0, 1);
        var second = d.Space.CreateCpu();
        using var start = new Barrier(2);
        var threads = new[]
        {
            new Thread(() => { start.SignalAndWait(); PersistRounds(d, d.Cpu, 0); }),
            new Thread(() => { start.SignalAndWait(); PersistRounds(d, second, 64 * 1024); }),
        };
        foreach (var t in threads)
            t.Start();
        foreach (var t in threads)
            t.Join();
        AssertEveryLinePersistedWithItsLastValue(d);
    }

    [Test]
    public void InspectionFromAnotherThreadWaitsForTheOwnerAndKeepsItsBias()
    {
        using var d = new DeviceFixture();
        var stop = new ManualResetEventSlim();
        long observed = 0, badCounts = 0;
        var inspector = new Thread(() =>
        {
            while (!stop.IsSet)
            {
                // The owner leaves at most one line in flight between its store and its fence,
                // holding one whole-line store of one value.
                var lines = d.Region.InFlightLines();
                if (lines.Count > 1 || lines.Any(l => l.Stores.Count != 1 || l.Stores[0].Data.Length != 64 || l.CurrentContent().Distinct().Count() != 1))
                    Interlocked.Increment(ref badCounts);
                observed++;
            }
        });
        inspector.Start();
        PersistRounds(d, d.Cpu, 0);
        stop.Set();
        inspector.Join();
        Assert.Multiple(() =>
        {
            Assert.That(badCounts, Is.Zero);
            Assert.That(observed, Is.GreaterThan(0));
        });
        AssertEveryLinePersistedWithItsLastValue(d, onlyFirstHalf: true);
    }

    [Test]
    public void ThreeCpusStoringToTheSameLinesLeaveEveryLineHoldingOneOfTheirValues()
    {
        using var d = new DeviceFixture();
        var cpus = new[] { d.Cpu, d.Space.CreateCpu(), d.Space.CreateCpu() };
        using var start = new Barrier(cpus.Length);
        var threads = cpus.Select((cpu, i) => new Thread(() =>
        {
            var line = new byte[64];
            start.SignalAndWait();
            for (int r = 0; r < Rounds; r++)
            {
                long pa = d.Pa((r % 128) * 64L);
                Array.Fill(line, (byte)(i + 1));
                cpu.Store(pa, line);
                cpu.Clwb(pa);
                cpu.Sfence();
            }
        })).ToArray();
        foreach (var t in threads)
            t.Start();
        foreach (var t in threads)
            t.Join();
        // A line is written whole under the lock: never a mix of two CPUs' values.
        var mixed = Enumerable.Range(0, 128)
            .Where(l => d.Persisted(l * 64L, 64) is var p && (p.Distinct().Count() != 1 || p[0] is < 1 or > 3))
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.InFlightLineCount, Is.Zero);
            Assert.That(mixed, Is.Empty);
        });
    }

    private static void PersistRounds(DeviceFixture d, Cpu cpu, long baseOffset)
    {
        for (int r = 0; r < Rounds; r++)
            Persist(d, cpu, baseOffset + (r % 512) * 64L, (byte)(r % 251 + 1));
    }

    private static void Persist(DeviceFixture d, Cpu cpu, long offset, byte value)
    {
        var line = new byte[64];
        Array.Fill(line, value);
        cpu.Store(d.Pa(offset), line);
        cpu.Clwb(d.Pa(offset));
        cpu.Sfence();
    }

    // Line l of each half last received the last round r with r % 512 == l, value (r % 251) + 1.
    private static void AssertEveryLinePersistedWithItsLastValue(DeviceFixture d, bool onlyFirstHalf = false)
    {
        var wrong = new List<string>();
        foreach (long half in onlyFirstHalf ? new[] { 0L } : new[] { 0L, 64 * 1024L })
        {
            for (int l = 0; l < 512; l++)
            {
                int lastRound = (Rounds - 1 - l) / 512 * 512 + l;
                byte expected = (byte)(lastRound % 251 + 1);
                if (d.Persisted(half + l * 64L, 64).Any(b => b != expected))
                    wrong.Add($"line {l} of the half at {half}");
            }
        }
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.InFlightLineCount, Is.Zero);
            Assert.That(wrong, Is.Empty);
        });
    }
}
