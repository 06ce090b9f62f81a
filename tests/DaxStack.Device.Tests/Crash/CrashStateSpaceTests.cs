using System.Numerics;
using DaxStack.Device.Crash;

namespace DaxStack.Device.Tests.Crash;

public class CrashStateSpaceTests
{
    private static byte[] Bytes(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    private static CrashStateSpace SpaceOf(SmallPlatform p) => new(p.Space.InFlightLines());

    private static string ImageKey(CrashStateSpace space, CrashState state) =>
        string.Join("|", space.LinesOf(state).Select(l => $"{l.Address:x}:{Convert.ToHexString(l.Content)}"));

    /// <summary>
    /// Lines 0-7 of a page, each with a different history:
    /// line 0: two aligned 8-byte stores (3 images); line 1: one 16-byte store at offset 4, three
    /// 8-byte words (4 images); line 2: a store then its undo (2 images, full = persisted);
    /// line 3: a store of the bytes already there (1 image); line 4: a fenced store then an
    /// unfenced one (2 images); line 5: clflushed (not in flight); lines 6 and 7: one store
    /// across their boundary (2 images each). 3*4*2*1*2*2*2 = 192 prefix images; changed lines
    /// 0, 1, 4, 6, 7.
    /// </summary>
    private static SmallPlatform MixedScenario()
    {
        var p = new SmallPlatform();
        var cpu = p.Cpu;
        long b = p.Base;
        cpu.Store(b + 0, Bytes(8, 0x11));
        cpu.Store(b + 8, Bytes(8, 0x12));
        cpu.Store(b + 64 + 4, Bytes(16, 0x21));
        cpu.Store(b + 128, Bytes(8, 0x31));
        cpu.Store(b + 128, Bytes(8, 0x00));
        cpu.Store(b + 192 + 16, Bytes(8, 0x00));
        cpu.Store(b + 256, Bytes(8, 0x41));
        cpu.Clwb(b + 256);
        cpu.Sfence();
        cpu.Store(b + 256 + 8, Bytes(8, 0x42));
        cpu.Store(b + 320, Bytes(8, 0x51));
        cpu.Clflush(b + 320);
        cpu.Store(b + 384 + 60, Bytes(8, 0x61));
        return p;
    }

    private static SmallPlatform ThreeLinesOneStoreEach()
    {
        var p = new SmallPlatform();
        for (int i = 0; i < 3; i++)
            p.Cpu.Store(p.Base + i * 64, Bytes(8, (byte)(0x70 + i)));
        return p;
    }

    [Test]
    public void ThreeLinesWithOneStoreEachCountEightInPowersetSevenInPairsAndEightInPrefixes()
    {
        using var p = ThreeLinesOneStoreEach();
        var space = SpaceOf(p);

        Assert.Multiple(() =>
        {
            Assert.That(space.ChangedLineCount, Is.EqualTo(3));
            Assert.That(space.CountPowerset(), Is.EqualTo(new BigInteger(8)));
            Assert.That(space.CountSubsets(2), Is.EqualTo(new BigInteger(7)));
            Assert.That(space.CountSubsets(1), Is.EqualTo(new BigInteger(4)));
            Assert.That(space.CountSubsets(0), Is.EqualTo(BigInteger.One));
            Assert.That(space.CountSubsets(5), Is.EqualTo(new BigInteger(8)));
            Assert.That(space.CountPrefixes(), Is.EqualTo(new BigInteger(8)));
        });
    }

    [Test]
    public void LineWithTwoEightByteStoresHasThreePrefixStates()
    {
        using var p = new SmallPlatform();
        p.Cpu.Store(p.Base, Bytes(8, 1));
        p.Cpu.Store(p.Base + 8, Bytes(8, 2));
        var space = SpaceOf(p);

        Assert.That(space.CountPrefixes(), Is.EqualTo(new BigInteger(3)));
        Assert.That(space.CountPowerset(), Is.EqualTo(new BigInteger(2)));
    }

    [Test]
    public void ALinesContentAfterANegativeNumberOfPiecesIsRefused()
    {
        using var p = new SmallPlatform();
        p.Cpu.Store(p.Base, Bytes(8, 1));
        var line = p.Space.InFlightLines().Single();
        Assert.Multiple(() =>
        {
            Assert.That(() => line.ContentAfterPieces(-1), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(line.ContentAfterPieces(0), Is.EqualTo(new byte[64]));
            Assert.That(line.ContentAfterPieces(5), Is.EqualTo(line.CurrentContent()), "more pieces than the line has: all of them");
        });
    }

    [Test]
    public void UnalignedSixteenByteStoreSpanningThreeWordsHasFourPrefixStates()
    {
        using var p = new SmallPlatform();
        p.Cpu.Store(p.Base + 4, Bytes(16, 0xAB));
        var space = SpaceOf(p);

        Assert.That(space.Lines[0].PieceCount, Is.EqualTo(3));
        Assert.That(space.CountPrefixes(), Is.EqualTo(new BigInteger(4)));
        var contents = space.Prefixes().Select(s => space.LinesOf(s).Single().Content).ToList();
        Assert.That(contents[1].Take(8), Is.EqualTo(new byte[] { 0, 0, 0, 0, 0xAB, 0xAB, 0xAB, 0xAB }));
        Assert.That(contents[1].Skip(8).All(x => x == 0), Is.True);
        Assert.That(contents[2].Take(16).Skip(4).All(x => x == 0xAB) && contents[2].Skip(16).All(x => x == 0), Is.True);
        Assert.That(contents[3].Skip(4).Take(16).All(x => x == 0xAB) && contents[3].Skip(20).All(x => x == 0), Is.True);
    }

    [Test]
    public void StoreOfTheBytesAlreadyPersistedAddsNoState()
    {
        using var p = new SmallPlatform();
        p.Cpu.Store(p.Base, Bytes(24, 0));
        var space = SpaceOf(p);

        Assert.That(space.Lines, Has.Count.EqualTo(1), "the line is in flight all the same");
        Assert.Multiple(() =>
        {
            Assert.That(space.ChangedLineCount, Is.Zero);
            Assert.That(space.DistinctContentCount(p.Base), Is.EqualTo(1));
            Assert.That(space.CountPrefixes(), Is.EqualTo(BigInteger.One));
            Assert.That(space.CountPowerset(), Is.EqualTo(BigInteger.One));
            Assert.That(space.CountSubsets(), Is.EqualTo(BigInteger.One));
            Assert.That(space.Prefixes().Count(), Is.EqualTo(1));
        });
    }

    [Test]
    public void StoreThenUndoKeepsTheIntermediateImageButAddsNoSubset()
    {
        using var p = new SmallPlatform();
        p.Cpu.Store(p.Base, Bytes(8, 9));
        p.Cpu.Store(p.Base, Bytes(8, 0));
        var space = SpaceOf(p);

        Assert.That(space.CountPrefixes(), Is.EqualTo(new BigInteger(2)));
        Assert.That(space.CountSubsets(), Is.EqualTo(BigInteger.One));
        Assert.That(space.Subsets().Single().Pieces, Is.Empty);
    }

    [Test]
    public void PrefixesThatRepeatAnEarlierImageAreCountedOnce()
    {
        using var p = new SmallPlatform();
        p.Cpu.Store(p.Base, Bytes(8, 1));
        p.Cpu.Store(p.Base, Bytes(8, 2));
        p.Cpu.Store(p.Base, Bytes(8, 1));
        var space = SpaceOf(p);

        Assert.That(space.CountPrefixes(), Is.EqualTo(new BigInteger(3)));
        Assert.That(space.CountSubsets(), Is.EqualTo(new BigInteger(2)));
        // The full content is the image of the first store: the state names the shortest prefix.
        Assert.That(space.Subsets().Last().PiecesFor(p.Base), Is.EqualTo(1));
    }

    [Test]
    public void ALineStoredToManyTimesCountsEachDistinctImageOnce()
    {
        using var p = new SmallPlatform();
        // 20 stores to one word, alternating two values, and 3 more to the next word: the images
        // are the persisted line, the two values of the first word, and those with the second
        // word's three values: 1 + 2 + 3 = 6.
        for (int i = 0; i < 20; i++)
            p.Cpu.Store(p.Base, Bytes(8, (byte)(1 + i % 2)));
        for (int i = 0; i < 3; i++)
            p.Cpu.Store(p.Base + 8, Bytes(8, (byte)(5 + i)));
        var space = SpaceOf(p);

        Assert.Multiple(() =>
        {
            Assert.That(space.DistinctContentCount(p.Base), Is.EqualTo(6));
            Assert.That(space.CountPrefixes(), Is.EqualTo(new BigInteger(6)));
            Assert.That(space.Prefixes().Select(s => s.PiecesFor(p.Base)), Is.EqualTo(new[] { 0, 1, 2, 21, 22, 23 }));
            Assert.That(space.Prefixes().Select(s => ImageKey(space, s)), Is.Unique);
            Assert.That(space.Subsets().Last().PiecesFor(p.Base), Is.EqualTo(23));
        });
    }

    [TestCase(300)]
    [TestCase(301)]
    public void SubsetCountsOfEverySizeAreTheSumsOfTheBinomials(int lines)
    {
        using var p = new SmallPlatform(size: 32 << 10);
        for (int line = 0; line < lines; line++)
            p.Cpu.StoreUInt64(p.Base + line * 64L, 1);
        var space = SpaceOf(p);
        var binomial = BigInteger.One;
        var sum = BigInteger.Zero;

        for (int size = 0; size <= lines + 1; size++)
        {
            if (size <= lines)
            {
                sum += binomial;
                binomial = binomial * (lines - size) / (size + 1);
            }
            Assert.That(space.CountSubsets(size), Is.EqualTo(sum), () => $"subsets of at most {size} of {lines} lines");
        }
    }

    [Test]
    public void MixedScenarioIsCountedExactly()
    {
        using var p = MixedScenario();
        var space = SpaceOf(p);

        Assert.Multiple(() =>
        {
            Assert.That(space.Lines.Select(l => l.PhysicalAddress - p.Base), Is.EqualTo(new long[] { 0, 64, 128, 192, 256, 384, 448 }));
            Assert.That(space.ChangedLineCount, Is.EqualTo(5));
            Assert.That(space.CountPrefixes(), Is.EqualTo(new BigInteger(192)));
            Assert.That(space.CountPowerset(), Is.EqualTo(new BigInteger(32)));
            Assert.That(space.CountSubsets(2), Is.EqualTo(new BigInteger(16)));
        });
    }

    [TestCase(CrashStrategy.Subsets)]
    [TestCase(CrashStrategy.Powerset)]
    [TestCase(CrashStrategy.Prefixes)]
    [TestCase(CrashStrategy.Sample)]
    [TestCase(CrashStrategy.Auto)]
    public void EnumerationYieldsAsManyDistinctImagesAsCounted(CrashStrategy strategy)
    {
        using var p = MixedScenario();
        var space = SpaceOf(p);
        var options = new CrashEnumerationOptions { Strategy = strategy, MaxStates = strategy == CrashStrategy.Sample ? 50 : 1000, Seed = 7 };

        var images = space.Enumerate(options).Select(s => ImageKey(space, s)).ToList();

        Assert.That(images, Has.Count.EqualTo((int)space.Count(options)));
        Assert.That(images, Is.Unique);
    }

    [Test]
    public void PrefixImagesIncludeEverySubsetAndPowersetImage()
    {
        using var p = MixedScenario();
        var space = SpaceOf(p);

        var prefixes = space.Prefixes().Select(s => ImageKey(space, s)).ToHashSet();

        Assert.That(space.Powerset().Select(s => ImageKey(space, s)), Is.SubsetOf(prefixes));
        Assert.That(space.Subsets().Select(s => ImageKey(space, s)), Is.SubsetOf(prefixes));
    }

    [TestCase(CrashStrategy.Subsets)]
    [TestCase(CrashStrategy.Powerset)]
    [TestCase(CrashStrategy.Prefixes)]
    public void ApplyingEachStateThroughCrashLeavesExactlyItsImage(CrashStrategy strategy)
    {
        List<CrashState> states;
        CrashStateSpace space;
        using (var first = MixedScenario())
        {
            space = SpaceOf(first);
            states = [.. space.Enumerate(new CrashEnumerationOptions { Strategy = strategy })];
        }

        foreach (var state in states)
        {
            using var p = MixedScenario();
            var expected = p.Persisted(0, 512);
            foreach (var (address, content) in space.LinesOf(state))
                content.CopyTo(expected, address - p.Base);

            p.Space.Crash(CrashPolicy.Exactly(state));

            Assert.That(p.Persisted(0, 512), Is.EqualTo(expected), () => $"state {state}");
            Assert.That(p.Load(0, 512), Is.EqualTo(expected), () => $"state {state}: loads after the crash");
        }
    }

    [Test]
    public void LinesOfGivesEveryInFlightLineAndPersistedContentForLinesTheStateDoesNotName()
    {
        using var p = MixedScenario();
        var space = SpaceOf(p);
        var persistedOnly = space.Subsets().First();

        var lines = space.LinesOf(persistedOnly).ToList();

        Assert.That(lines.Select(l => l.Address), Is.EqualTo(space.Lines.Select(l => l.PhysicalAddress)));
        foreach (var (address, content) in lines)
            Assert.That(content, Is.EqualTo(p.Persisted(address - p.Base, 64)));
    }

    [Test]
    public void LinesOfRejectsAStateOfAnotherSpace()
    {
        using var p = MixedScenario();
        using var other = new SmallPlatform();
        other.Cpu.Store(other.Base + 1024, Bytes(8, 5));
        var foreign = SpaceOf(other).Prefixes().Last();

        Assert.That(() => SpaceOf(p).LinesOf(foreign), Throws.ArgumentException);
    }

    [Test]
    public void HugeSpacesAreCountedWithoutEnumeratingAndEnumeratedLazily()
    {
        using var p = new SmallPlatform();
        // 64 lines, each with 8 distinct prefix images (7 word stores of distinct values).
        for (int line = 0; line < 64; line++)
            for (int word = 0; word < 7; word++)
                p.Cpu.StoreUInt64(p.Base + line * 64 + word * 8, (ulong)(line * 8 + word + 1));
        var space = SpaceOf(p);

        Assert.Multiple(() =>
        {
            Assert.That(space.CountPrefixes(), Is.EqualTo(BigInteger.Pow(8, 64)));
            Assert.That(space.CountPowerset(), Is.EqualTo(BigInteger.Pow(2, 64)));
            Assert.That(space.CountSubsets(2), Is.EqualTo(new BigInteger(1 + 64 + 64 * 63 / 2)));
            Assert.That(space.Prefixes(maxStates: 5).Count(), Is.EqualTo(5));
            Assert.That(space.Powerset(maxStates: 70).Count(), Is.EqualTo(70));
            Assert.That(space.Prefixes(int.MaxValue).Take(3).Count(), Is.EqualTo(3));
        });
    }

    [Test]
    public void MaxStatesBoundsEveryStrategyAndTheCount()
    {
        using var p = MixedScenario();
        var space = SpaceOf(p);

        foreach (var strategy in Enum.GetValues<CrashStrategy>())
        {
            var options = new CrashEnumerationOptions { Strategy = strategy, MaxStates = 10 };
            Assert.That(space.Count(options), Is.EqualTo(new BigInteger(10)), strategy.ToString());
            Assert.That(space.Enumerate(options).Count(), Is.EqualTo(10), strategy.ToString());
        }
    }

    [Test]
    public void SubsetsComeSmallestFirstStartingWithThePersistedState()
    {
        using var p = ThreeLinesOneStoreEach();
        var space = SpaceOf(p);

        var sizes = space.Subsets(2).Select(s => s.Pieces.Count).ToList();

        Assert.That(sizes, Is.EqualTo(new[] { 0, 1, 1, 1, 2, 2, 2 }));
    }

    [Test]
    public void AutoEnumeratesEveryImageWhenTheyFit()
    {
        using var p = MixedScenario();
        var space = SpaceOf(p);

        Assert.That(space.Resolve(new CrashEnumerationOptions { MaxStates = 192 }), Is.EqualTo(CrashStrategy.Prefixes));
    }

    [Test]
    public void AutoChoosesThePowersetForFewLinesWithManyImages()
    {
        using var p = new SmallPlatform();
        for (int line = 0; line < 10; line++)
            for (int word = 0; word < 8; word++)
                p.Cpu.StoreUInt64(p.Base + line * 64 + word * 8, (ulong)(word + 1));
        var space = SpaceOf(p);
        var options = new CrashEnumerationOptions { MaxStates = 5000 };

        Assert.That(space.CountPrefixes(), Is.EqualTo(BigInteger.Pow(9, 10)));
        Assert.That(space.Resolve(options), Is.EqualTo(CrashStrategy.Powerset));
        Assert.That(space.Count(options), Is.EqualTo(new BigInteger(1024)));
    }

    [Test]
    public void AutoSamplesWhenManyLinesAreInFlight()
    {
        using var p = new SmallPlatform();
        for (int line = 0; line < 20; line++)
            p.Cpu.StoreUInt64(p.Base + line * 64, (ulong)(line + 1));
        var space = SpaceOf(p);
        var options = new CrashEnumerationOptions { MaxStates = 300, Seed = 3 };

        Assert.That(space.Resolve(options), Is.EqualTo(CrashStrategy.Sample));
        var images = space.Enumerate(options).Select(s => ImageKey(space, s)).ToList();
        Assert.That(images, Has.Count.EqualTo(300));
        Assert.That(images, Is.Unique);
    }

    [Test]
    public void SampleWithTheSameSeedGivesTheSameStates()
    {
        using var p = new SmallPlatform();
        for (int line = 0; line < 20; line++)
            p.Cpu.Store(p.Base + line * 64 + 3, Bytes(12, (byte)(line + 1)));
        var space = SpaceOf(p);

        var first = space.Sample(40, seed: 11).Select(s => s.ToString()).ToList();
        var again = new CrashStateSpace(p.Space.InFlightLines()).Sample(40, seed: 11).Select(s => s.ToString()).ToList();
        var other = space.Sample(40, seed: 12).Select(s => s.ToString()).ToList();

        Assert.That(again, Is.EqualTo(first));
        Assert.That(other, Is.Not.EqualTo(first));
        Assert.That(first, Is.Unique);
    }

    /// <summary>40 lines with stores of different lengths and offsets: 2 to 7 images each, more than 2^64 in all.</summary>
    private static SmallPlatform FortyUnevenLines()
    {
        var p = new SmallPlatform();
        for (int line = 0; line < 40; line++)
            p.Cpu.Store(p.Base + line * 64 + line * 3 % 16, Bytes((line % 7 + 1) * 6, (byte)(line + 1)));
        return p;
    }

    [Test]
    public void ASeedKeepsDrawingTheSameSampleOfALargeSpace()
    {
        using var p = FortyUnevenLines();
        var space = SpaceOf(p);
        Assert.That(space.CountPrefixes(), Is.GreaterThan(BigInteger.One << 64));

        var sample = space.Sample(30, seed: 21).Select(s => s.ToString()).ToList();

        Assert.That(sample, Is.Unique);
        // What this seed drew when repeats were told apart by each state's BigInteger rank: the
        // sample depends on the seed and the lines only, not on how repeats are found.
        Assert.That(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", sample)))),
            Is.EqualTo("811015C23369EDA8E37BACA877BF7FE59BB2807DAD2C1DB5A4E699D7F946D721"));
    }

    [Test]
    public void ASampleOfManyLinesCostsEachStateTimeInProportionToTheLines()
    {
        // 20,000 lines of 9 images each: a state's rank is a 63,000-bit number, which grew digit
        // by digit cost quadratic time per state drawn (about 50 ms here; minutes for 10,000 states).
        const int lines = 20_000;
        using var p = new SmallPlatform(size: 2 << 20);
        var data = new byte[64];
        var rng = new Random(1);
        for (int line = 0; line < lines; line++)
        {
            rng.NextBytes(data);
            p.Cpu.Store(p.Base + line * 64L, data);
        }
        var space = SpaceOf(p);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        int drawn = space.Sample(400, seed: 2).Count();
        watch.Stop();

        Assert.That(drawn, Is.EqualTo(400));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "drawing 400 states");
    }

    [Test]
    public void TheCountsOfACrashPointWithHundredsOfThousandsOfLinesTakeSeconds()
    {
        // 300,000 lines (of the 512 Ki a region may keep in flight), each a full-line store whose
        // 8 words all differ from the zeros under them: 9 images per line.
        const int lines = 300_000;
        using var p = new SmallPlatform(size: 20 << 20);
        var data = new byte[64];
        var rng = new Random(1);
        for (int line = 0; line < lines; line++)
        {
            rng.NextBytes(data);
            data[0] |= 1;
            for (int word = 8; word < 64; word += 8)
                data[word] |= 1;
            p.Cpu.Store(p.Base + line * 64L, data);
        }
        var space = SpaceOf(p);
        var options = new CrashEnumerationOptions();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var prefixes = space.CountPrefixes();
        var strategy = space.Resolve(options);
        var count = space.Count(options);
        var all = space.CountSubsets(int.MaxValue);
        var allButOne = space.CountSubsets(lines - 1);
        watch.Stop();

        Assert.Multiple(() =>
        {
            Assert.That(prefixes, Is.EqualTo(BigInteger.Pow(9, lines)));
            Assert.That(strategy, Is.EqualTo(CrashStrategy.Sample));
            Assert.That(count, Is.EqualTo(new BigInteger(options.MaxStates)));
            Assert.That(all, Is.EqualTo(BigInteger.One << lines));
            Assert.That(allButOne, Is.EqualTo((BigInteger.One << lines) - 1));
            // A count grown one line at a time took quadratic time: about 25 s for each count of
            // the prefixes (three here) and 10 s for the subsets.
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the counts");
        });
    }

    [Test]
    public void SampleLargerThanTheSpaceGivesEveryState()
    {
        using var p = ThreeLinesOneStoreEach();
        var space = SpaceOf(p);

        var sample = space.Sample(100, seed: 1).Select(s => ImageKey(space, s)).ToList();

        Assert.That(sample, Has.Count.EqualTo(8));
        Assert.That(sample, Is.EquivalentTo(space.Prefixes().Select(s => ImageKey(space, s))));
    }

    [Test]
    public void NothingInFlightHasOnlyThePersistedState()
    {
        using var p = new SmallPlatform();
        p.Cpu.Persist(p.Base, Bytes(64, 3));
        var space = SpaceOf(p);

        Assert.That(space.Lines, Is.Empty);
        Assert.That(space.CountPrefixes(), Is.EqualTo(BigInteger.One));
        Assert.That(space.Enumerate(new CrashEnumerationOptions()).Single().Pieces, Is.Empty);
    }

    [Test]
    public void InvalidBoundsAreRejected()
    {
        using var p = ThreeLinesOneStoreEach();
        var space = SpaceOf(p);

        Assert.That(() => space.Subsets(-1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => space.Prefixes(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => space.Sample(-1, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => space.Count(new CrashEnumerationOptions { MaxStates = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
