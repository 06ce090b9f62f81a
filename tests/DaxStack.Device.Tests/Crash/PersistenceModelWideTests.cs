using System.Numerics;
using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Persistence;
using DaxStack.Device.Platform;
using DaxStack.Tests.Shared;

namespace DaxStack.Device.Tests.Crash;

/// <summary>
/// Model-based tests over a whole small region (four pages): stores and non-temporal stores of
/// any size and alignment (crossing lines and pages, whole pages, up to the region's end),
/// NtStoreFrom sources that stop early, range flushes, fences by several CPUs, fused persists
/// and power failures, compared with <see cref="ReferencePersistenceModel"/> after every step.
/// </summary>
public class PersistenceModelWideTests
{
    [Test]
    public void RandomWideProgramsMatchTheReferenceModel()
    {
        for (int seed = 0; seed < 12; seed++)
            Run(seed, cpuCount: 1 + seed % 3, pages: 4, steps: 60, big: 0);
    }

    /// <summary>A region of 3 MiB: stores of up to 1.2 MiB (streamed saves), NtStoreFrom of 64 KiB and more, more dirty pages than the tracker's first tables, the 2 MiB directory boundary.</summary>
    [Test]
    public void RandomProgramsWithLargeStoresMatchTheReferenceModel()
    {
        // Seed 11 found NtStoreFrom's chunks splitting a line's store in two (chunk boundaries inside lines).
        foreach (int seed in new[] { 11 })
            Run(seed, cpuCount: 1 + seed % 2, pages: 768, steps: 10, big: 1_200_000);
    }

    private static int Pages;
    private static int Big;

    private static void Run(int seed, int cpuCount, int pages, int steps, int big)
    {
        Pages = pages;
        Big = big;
        int Lines = pages * 64, Steps = steps;
        var rng = new Random(seed);
        using var p = new SmallPlatform(CostProfiles.OptaneAdr, size: Pages * PhysicalAddressSpace.PageSize);
        var cpus = new List<Cpu> { p.Cpu };
        while (cpus.Count < cpuCount)
            cpus.Add(p.Space.CreateCpu());
        var model = new ReferencePersistenceModel(Lines, cpuCount, eadr: false);
        var program = new List<string>();
        for (int step = 0; step < Steps; step++)
        {
            string Where() => $"seed {seed}, {cpuCount} CPU(s); program:\n  {string.Join("\n  ", program)}";
            try
            {
                program.Add(Execute(rng, p, cpus, model, Where));
                Check(p, cpus, model, Where);
            }
            catch (Exception e) when (e is not AssertionException)
            {
                Assert.Fail($"{Where()}\nthrew {e}");
            }
        }
    }

    private static string Execute(Random rng, SmallPlatform p, List<Cpu> cpus, ReferencePersistenceModel model, Func<string> where)
    {
        int c = rng.Next(cpus.Count);
        var cpu = cpus[c];
        int roll = rng.Next(100);
        if (roll < 28)
        {
            var (offset, data) = RandomWrite(rng, model);
            cpu.Store(p.Base + offset, data);
            model.Store(offset, data);
            return $"cpu{c} store {offset} +{data.Length}";
        }
        if (roll < 36)
        {
            var (offset, data) = RandomWrite(rng, model);
            cpu.NtStore(p.Base + offset, data);
            model.NtStore(c, offset, data);
            return $"cpu{c} ntstore {offset} +{data.Length}";
        }
        if (roll < 41)
        {
            var (offset, data) = RandomWrite(rng, model);
            int limit = rng.Next(2) == 0 ? data.Length : rng.Next(data.Length + 1);
            int produced = cpu.NtStoreFrom(p.Base + offset, data.Length, new BufferStoreSource(data, limit: limit));
            Assert.That(produced, Is.EqualTo(limit));
            // The whole chunk handed out counts as stored: produced bytes, then the old ones.
            // Chunks of up to StoreFromChunk bytes ending on line boundaries; the store ends with the first short one.
            int handed = 0;
            while (handed < data.Length)
            {
                int chunk = Math.Min(data.Length - handed, Cpu.StoreFromChunk - (int)((offset + handed) & 63));
                handed += chunk;
                if (handed > limit)
                    break;
            }
            var stored = model.Current().AsSpan((int)offset, handed).ToArray();
            data.AsSpan(0, limit).CopyTo(stored);
            model.NtStore(c, offset, stored);
            return $"cpu{c} ntstorefrom {offset} +{data.Length} produced {limit}";
        }
        if (roll < 52)
        {
            long offset = rng.Next(model.Bytes);
            var kind = (FlushKind)rng.Next(3);
            switch (kind)
            {
                case FlushKind.Clwb: cpu.Clwb(p.Base + offset); break;
                case FlushKind.Clflushopt: cpu.Clflushopt(p.Base + offset); break;
                default: cpu.Clflush(p.Base + offset); break;
            }
            model.Flush(c, kind, offset);
            return $"cpu{c} {kind} {offset}";
        }
        if (roll < 64)
        {
            long offset = rng.Next(4) == 0 ? PhysicalAddressSpace.PageSize * rng.Next(Pages) : rng.Next(model.Bytes);
            long length = rng.Next(3) == 0 ? model.Bytes - offset : rng.Next(1, model.Bytes - (int)offset + 1);
            var kind = (FlushKind)rng.Next(3);
            cpu.Flush(kind, p.Base + offset, length);
            for (long line = offset / 64; line * 64 < offset + length; line++)
                model.Flush(c, kind, line * 64);
            return $"cpu{c} flush {kind} {offset} +{length}";
        }
        if (roll < 78)
        {
            if (rng.Next(2) == 0)
                cpu.Sfence();
            else
                cpu.Mfence();
            model.Fence(c);
            return $"cpu{c} fence";
        }
        if (roll < 86)
        {
            var (offset, data) = RandomWrite(rng, model);
            cpu.Persist(p.Base + offset, data);
            model.Persist(c, offset, data);
            return $"cpu{c} persist {offset} +{data.Length}";
        }
        if (roll < 90)
        {
            // A store whose source is the region's own media (memmove within pmem).
            int length = rng.Next(1, Big > 0 ? Big : 6000);
            int from = rng.Next(model.Bytes - length + 1), to = rng.Next(model.Bytes - length + 1);
            var data = model.Current().AsSpan(from, length).ToArray();
            unsafe
            {
                var src = new ReadOnlySpan<byte>(p.Region.Media.Pointer + from, length);
                cpu.Store(p.Base + to, src);
            }
            model.Store(to, data);
            return $"cpu{c} store {to} from media {from} +{length}";
        }
        return PersistenceModelTests.CrashAndCheck(rng, p, model, where);
    }

    private static void Check(SmallPlatform p, List<Cpu> cpus, ReferencePersistenceModel model, Func<string> where)
    {
        var loaded = new byte[model.Bytes];
        cpus[0].Load(p.Base, loaded);
        Assert.That(loaded.AsSpan().SequenceEqual(model.Current()), Is.True, () => $"{where()}\nloads");
        Assert.That(p.Persisted(0, model.Bytes).AsSpan().SequenceEqual(model.Persisted()), Is.True, () => $"{where()}\npersisted");
        var inFlight = p.Space.InFlightLines();
        var expected = Enumerable.Range(0, model.LineCount).Where(l => model.StoresOf(l).Count > 0).ToList();
        Assert.That(inFlight.Select(l => l.PhysicalAddress - p.Base), Is.EqualTo(expected.Select(l => (long)l * 64)), () => $"{where()}\nin-flight lines");
        Assert.That(p.Region.InFlightLineCount, Is.EqualTo(expected.Count), () => $"{where()}\nin-flight line count");
        for (int i = 0; i < expected.Count; i++)
        {
            int line = expected[i];
            var actual = inFlight[i];
            Assert.That(actual.Persisted.ToArray(), Is.EqualTo(model.PersistedOf(line)), () => $"{where()}\nline {line} persisted");
            Assert.That(actual.Stores.Select(s => $"{s.Offset}:{Convert.ToHexString(s.Data.Span)}"),
                Is.EqualTo(model.StoresOf(line).Select(s => $"{s.Offset}:{Convert.ToHexString(s.Data)}")), () => $"{where()}\nline {line} stores");
            int covers = Enumerable.Range(0, cpus.Count).Max(cpu => model.WriteBackCovers(cpu, line));
            Assert.That(actual.WriteBackIssued, Is.EqualTo(covers), () => $"{where()}\nline {line} write-back coverage");
        }
        var space = new CrashStateSpace(inFlight);
        BigInteger count = expected.Aggregate(BigInteger.One, (n, l) => n * model.AllowedImages(l).Count);
        Assert.That(space.CountPrefixes(), Is.EqualTo(count), () => $"{where()}\nprefix count");
    }

    private static (long Offset, byte[] Data) RandomWrite(Random rng, ReferencePersistenceModel model)
    {
        int page = PhysicalAddressSpace.PageSize;
        int length = rng.Next(8) switch
        {
            0 => 8,
            1 => rng.Next(1, 9),
            2 => rng.Next(9, 130),
            3 => rng.Next(130, 9000),
            4 => page * rng.Next(1, 3),
            5 => page * rng.Next(1, 3) + rng.Next(-100, 100),
            6 => 64 * rng.Next(1, 5),
            _ => Big > 0 ? rng.Next(60_000, Big) : 64 * rng.Next(1, 5),
        };
        length = Math.Clamp(length, 1, model.Bytes);
        long offset = rng.Next(4) switch
        {
            0 => 8L * rng.Next((model.Bytes - length) / 8 + 1),
            1 => (long)page * rng.Next((model.Bytes - length) / page + 1),
            2 => model.Bytes - length,
            _ => rng.Next(model.Bytes - length + 1),
        };
        var data = new byte[length];
        switch (rng.Next(5))
        {
            case 0:
                model.Current().AsSpan((int)offset, length).CopyTo(data);
                break;
            case 1:
                for (int i = 0; i < length; i++)
                    data[i] = (byte)rng.Next(2);
                break;
            default:
                rng.NextBytes(data);
                break;
        }
        return (offset, data);
    }
}
