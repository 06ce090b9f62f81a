using System.Numerics;
using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Persistence;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Crash;

/// <summary>
/// Model-based tests of the whole persistence model: seeded random programs of stores,
/// non-temporal stores, write-backs, fences, fused persists and power failures on a few lines,
/// run on the emulator and on <see cref="ReferencePersistenceModel"/>, compared after every step.
/// A failure names the seed, the step and the program so far.
/// </summary>
public class PersistenceModelTests
{
    private const int ModelLines = 4;
    private const int Seeds = 60;
    private const int Steps = 80;

    [Test]
    public void RandomProgramsOnOneCpuMatchTheReferenceModel() => RunSeeds(CostProfiles.OptaneAdr, cpus: 1);

    [Test]
    public void RandomProgramsOnTwoCpusMatchTheReferenceModel() => RunSeeds(CostProfiles.OptaneAdr, cpus: 2);

    [Test]
    public void RandomProgramsUnderEadrMatchTheReferenceModel() => RunSeeds(CostProfiles.OptaneEadr, cpus: 2);

    /// <summary>Two pages, with stores of whole pages among the small ones: the tracker keeps a page stored in full while clean as one record, which every other operation must see through.</summary>
    [Test]
    public void RandomProgramsWithWholePageStoresMatchTheReferenceModel()
    {
        for (int seed = 0; seed < Seeds / 2; seed++)
            Run(CostProfiles.OptaneAdr, cpuCount: 1 + (seed % 2), seed, modelLines: 128, pageStores: true);
    }

    [Test]
    public void FenceCompletesItsOwnWriteBackAfterAnotherCpuWroteTheLineBack()
    {
        using var p = new SmallPlatform();
        var other = p.Space.CreateCpu();
        p.Cpu.StoreUInt64(p.Base, 0x1111);
        p.Cpu.Clwb(p.Base);
        other.StoreUInt64(p.Base + 8, 0x2222);
        other.Clwb(p.Base);
        p.Cpu.Sfence();

        // The first CPU's clwb covered its store and its sfence waited for that write-back;
        // the second store is covered only by the other CPU's write-back, not yet fenced.
        var persisted = p.Persisted(0, 16);
        Assert.That(BitConverter.ToUInt64(persisted, 0), Is.EqualTo(0x1111UL));
        Assert.That(BitConverter.ToUInt64(persisted, 8), Is.Zero);
    }

    [Test]
    public void FenceCompletesItsOwnWriteBackWhenAnotherCpuWroteBackTheSameStores()
    {
        using var p = new SmallPlatform();
        var other = p.Space.CreateCpu();
        p.Cpu.StoreUInt64(p.Base, 0x1111);
        p.Cpu.Clwb(p.Base);
        other.Clwb(p.Base);
        p.Cpu.Sfence();

        Assert.That(BitConverter.ToUInt64(p.Persisted(0, 8)), Is.EqualTo(0x1111UL));
    }

    private static void RunSeeds(CostProfile profile, int cpus)
    {
        for (int seed = 0; seed < Seeds; seed++)
            Run(profile, cpus, seed);
    }

    private static void Run(CostProfile profile, int cpuCount, int seed, int modelLines = ModelLines, bool pageStores = false)
    {
        var rng = new Random(seed);
        using var p = new SmallPlatform(profile, size: PhysicalAddressSpace.PageSize * (modelLines * 64 / PhysicalAddressSpace.PageSize + 1));
        var cpus = new List<Cpu> { p.Cpu };
        while (cpus.Count < cpuCount)
            cpus.Add(p.Space.CreateCpu());
        var model = new ReferencePersistenceModel(modelLines, cpuCount, profile.Domain == PersistenceDomain.Eadr);
        var program = new List<string>();

        for (int step = 0; step < Steps; step++)
        {
            int at = step;
            string Where() => $"seed {seed}, step {at}, profile {profile.Name}, {cpuCount} CPU(s); program:\n  {string.Join("\n  ", program)}";
            try
            {
                program.Add(Execute(rng, p, cpus, model, Where, pageStores));
                Check(p, cpus, model, Where);
            }
            catch (Exception e) when (e is not AssertionException)
            {
                Assert.Fail($"{Where()}\nthrew {e}");
            }
        }
    }

    /// <summary>Runs one random operation on the emulator and the model; returns its description.</summary>
    private static string Execute(Random rng, SmallPlatform p, List<Cpu> cpus, ReferencePersistenceModel model, Func<string> where, bool pageStores)
    {
        int c = rng.Next(cpus.Count);
        var cpu = cpus[c];
        int roll = rng.Next(100);
        if (roll < 30)
        {
            var (offset, data) = RandomWrite(rng, model, pageStores);
            cpu.Store(p.Base + offset, data);
            model.Store(offset, data);
            return $"cpu{c} store {offset} {Show(data)}";
        }
        if (roll < 38)
        {
            var (offset, data) = RandomWrite(rng, model, pageStores);
            cpu.NtStore(p.Base + offset, data);
            model.NtStore(c, offset, data);
            return $"cpu{c} ntstore {offset} {Show(data)}";
        }
        if (roll < 55)
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
            return $"cpu{c} {kind.ToString().ToLowerInvariant()} {offset}";
        }
        if (roll < 62)
        {
            long offset = rng.Next(model.Bytes);
            long length = rng.Next(1, model.Bytes - (int)offset + 1);
            var kind = (FlushKind)rng.Next(3);
            cpu.Flush(kind, p.Base + offset, length);
            for (long line = offset / 64; line * 64 < offset + length; line++)
                model.Flush(c, kind, line * 64);
            return $"cpu{c} flush {kind.ToString().ToLowerInvariant()} {offset} {length}";
        }
        if (roll < 74)
        {
            cpu.Sfence();
            model.Fence(c);
            return $"cpu{c} sfence";
        }
        if (roll < 80)
        {
            cpu.Mfence();
            model.Fence(c);
            return $"cpu{c} mfence";
        }
        if (roll < 88)
        {
            var (offset, data) = RandomWrite(rng, model, pageStores);
            cpu.Persist(p.Base + offset, data);
            model.Persist(c, offset, data);
            return $"cpu{c} persist {offset} {Show(data)}";
        }
        return CrashAndCheck(rng, p, model, where);
    }

    /// <summary>A power failure under a random policy; checks what survived against the model, then continues from it.</summary>
    internal static string CrashAndCheck(Random rng, SmallPlatform p, ReferencePersistenceModel model, Func<string> where)
    {
        var allowed = Enumerable.Range(0, model.LineCount).Select(model.AllowedImages).ToList();
        var persisted = model.Persisted();
        var current = model.Current();
        int which = rng.Next(3);
        var policy = which switch
        {
            0 => CrashPolicy.Strict,
            1 => CrashPolicy.AllPersisted,
            _ => CrashPolicy.Random(rng.Next()),
        };

        p.Space.Crash(policy);

        var media = p.Persisted(0, model.Bytes);
        Assert.That(p.Space.InFlightLines(), Is.Empty, () => $"{where()}\nlines still in flight after crash {policy}");
        Assert.That(p.Persisted(model.Bytes, (int)p.Region.Size - model.Bytes).All(b => b == 0), Is.True,
            () => $"{where()}\ncrash {policy} changed bytes no program touched");
        if (which == 0)
            Assert.That(media, Is.EqualTo(persisted), () => $"{where()}\nstrict crash must leave exactly the persisted bytes");
        else if (which == 1)
            Assert.That(media, Is.EqualTo(current), () => $"{where()}\ncrash keeping everything must leave the CPU view");
        else
            for (int line = 0; line < model.LineCount; line++)
                Assert.That(allowed[line], Does.Contain(Convert.ToHexString(media, line * 64, 64)),
                    () => $"{where()}\ncrash {policy}: line {line} holds an image no prefix of its stores gives");

        model.Crash(media);
        return $"crash {policy}";
    }

    /// <summary>Compares loads, persisted bytes, in-flight lines and the crash state space with the model.</summary>
    private static void Check(SmallPlatform p, List<Cpu> cpus, ReferencePersistenceModel model, Func<string> where)
    {
        var loaded = new byte[model.Bytes];
        cpus[^1].Load(p.Base, loaded);
        Assert.That(loaded, Is.EqualTo(model.Current()), () => $"{where()}\nloads must see the latest stores");
        Assert.That(p.Persisted(0, model.Bytes), Is.EqualTo(model.Persisted()), () => $"{where()}\nReadPersisted differs from the model's persisted bytes");

        var inFlight = p.Space.InFlightLines();
        var expectedLines = Enumerable.Range(0, model.LineCount).Where(l => model.StoresOf(l).Count > 0).ToList();
        Assert.That(inFlight.Select(l => l.PhysicalAddress - p.Base), Is.EqualTo(expectedLines.Select(l => (long)l * 64)),
            () => $"{where()}\nin-flight lines differ");
        for (int i = 0; i < expectedLines.Count; i++)
        {
            int line = expectedLines[i];
            var actual = inFlight[i];
            Assert.That(actual.Persisted.ToArray(), Is.EqualTo(model.PersistedOf(line)), () => $"{where()}\nline {line}: persisted content differs");
            Assert.That(actual.Stores.Select(s => $"{s.Offset}:{Convert.ToHexString(s.Data.Span)}"),
                Is.EqualTo(model.StoresOf(line).Select(s => $"{s.Offset}:{Convert.ToHexString(s.Data)}")),
                () => $"{where()}\nline {line}: store history differs");
            Assert.That(actual.CurrentContent(), Is.EqualTo(model.CurrentOf(line)), () => $"{where()}\nline {line}: current content differs");
            if (cpus.Count == 1)
                Assert.That(actual.WriteBackIssued, Is.EqualTo(model.WriteBackCovers(0, line)), () => $"{where()}\nline {line}: stores covered by the write-back differ");
        }

        CheckStateSpace(p, model, inFlight, expectedLines, where);
    }

    /// <summary>The crash state space of the in-flight lines counts and yields exactly the model's allowed images.</summary>
    private static void CheckStateSpace(SmallPlatform p, ReferencePersistenceModel model, IReadOnlyList<InFlightLine> inFlight, List<int> lines, Func<string> where)
    {
        var space = new CrashStateSpace(inFlight);
        var allowed = lines.ToDictionary(l => p.Base + l * 64L, model.AllowedImages);
        BigInteger expected = allowed.Values.Aggregate(BigInteger.One, (n, images) => n * images.Count);
        int changed = lines.Count(l => !model.CurrentOf(l).AsSpan().SequenceEqual(model.PersistedOf(l)));

        Assert.That(space.CountPrefixes(), Is.EqualTo(expected), () => $"{where()}\nprefix state count differs");
        Assert.That(space.ChangedLineCount, Is.EqualTo(changed), () => $"{where()}\nchanged line count differs");
        Assert.That(space.CountPowerset(), Is.EqualTo(BigInteger.One << changed), () => $"{where()}\npowerset count differs");
        Assert.That(space.CountSubsets(), Is.EqualTo(new BigInteger(1 + changed + changed * (changed - 1) / 2)), () => $"{where()}\nsubset count differs");
        if (expected > 64)
            return;

        var images = new HashSet<string>();
        foreach (var state in space.Prefixes())
        {
            var image = new List<string>();
            foreach (var (address, content) in space.LinesOf(state))
            {
                string hex = Convert.ToHexString(content);
                Assert.That(allowed[address], Does.Contain(hex), () => $"{where()}\nstate {state}: line 0x{address:x} is not a prefix image");
                image.Add(hex);
            }
            images.Add(string.Join("|", image));
        }
        Assert.That(images, Has.Count.EqualTo((int)expected), () => $"{where()}\nenumeration does not yield every distinct image once");
    }

    /// <summary>A store of 1 to 40 bytes inside the model's lines, often 8-byte aligned, sometimes of the bytes already there or of few distinct values.</summary>
    private static string Show(byte[] data) => data.Length <= 64 ? Convert.ToHexString(data) : $"{data.Length} bytes from {Convert.ToHexString(data, 0, 8)}";

    private static (long Offset, byte[] Data) RandomWrite(Random rng, ReferencePersistenceModel model, bool pageStores)
    {
        if (pageStores && rng.Next(4) == 0)
        {
            // One or more whole pages, page aligned, of fresh bytes or of the bytes already there.
            int pages = model.Bytes / PhysicalAddressSpace.PageSize;
            int first = rng.Next(pages), count = rng.Next(1, pages - first + 1);
            var page = new byte[count * PhysicalAddressSpace.PageSize];
            if (rng.Next(3) == 0)
                model.Current().AsSpan(first * PhysicalAddressSpace.PageSize, page.Length).CopyTo(page);
            else
                rng.NextBytes(page);
            return ((long)first * PhysicalAddressSpace.PageSize, page);
        }
        int length = rng.Next(4) switch
        {
            0 => 8,
            1 => rng.Next(1, 9),
            2 => rng.Next(9, 41),
            _ => 8 * rng.Next(1, 4),
        };
        long offset = rng.Next(2) == 0 ? 8L * rng.Next((model.Bytes - length) / 8 + 1) : rng.Next(model.Bytes - length + 1);
        var data = new byte[length];
        switch (rng.Next(6))
        {
            case 0:
                // Rewrites the visible bytes: the line is in flight but its images repeat.
                model.Current().AsSpan((int)offset, length).CopyTo(data);
                break;
            case 1:
            case 2:
                // Few distinct values, so later stores often restore earlier images.
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
