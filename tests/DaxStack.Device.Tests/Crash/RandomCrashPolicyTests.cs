using DaxStack.Device.Crash;

namespace DaxStack.Device.Tests.Crash;

public class RandomCrashPolicyTests
{
    private const int Lines = 16;

    /// <summary>16 lines, each with eight distinct 8-byte stores, none flushed: 9^16 possible images.</summary>
    private static SmallPlatform ManyUnflushedLines()
    {
        var p = new SmallPlatform();
        for (int line = 0; line < Lines; line++)
            for (int word = 0; word < 8; word++)
                p.Cpu.StoreUInt64(p.Base + line * 64 + word * 8, 0x0101010101010101UL * (ulong)(word + 1) + (ulong)line);
        return p;
    }

    private static byte[] ImageAfterRandomCrash(int seed)
    {
        using var p = ManyUnflushedLines();
        p.Space.Crash(CrashPolicy.Random(seed));
        return p.Persisted(0, Lines * 64);
    }

    [Test]
    public void SameSeedAndOperationsGiveTheSameMedia()
    {
        for (int seed = 0; seed < 5; seed++)
        {
            var first = ImageAfterRandomCrash(seed);
            var second = ImageAfterRandomCrash(seed);
            Assert.That(second, Is.EqualTo(first), () => $"seed {seed}");
        }
    }

    [Test]
    public void DifferentSeedsGiveDifferentImages()
    {
        var images = Enumerable.Range(0, 10).Select(seed => Convert.ToHexString(ImageAfterRandomCrash(seed))).ToList();

        // Ten draws from 9^16 images: a repeat would mean the seed is ignored.
        Assert.That(images, Is.Unique);
    }

    [Test]
    public void RandomCrashLeavesEachLineWithAPrefixOfItsStores()
    {
        byte[] image;
        List<HashSet<string>> allowed;
        using (var p = ManyUnflushedLines())
        {
            var space = new CrashStateSpace(p.Space.InFlightLines());
            allowed = [.. space.Lines.Select(l => Enumerable.Range(0, l.PieceCount + 1).Select(n => Convert.ToHexString(l.ContentAfterPieces(n))).ToHashSet())];
            p.Space.Crash(CrashPolicy.Random(42));
            image = p.Persisted(0, Lines * 64);
        }

        for (int line = 0; line < Lines; line++)
            Assert.That(allowed[line], Does.Contain(Convert.ToHexString(image, line * 64, 64)), () => $"line {line}");
    }

    [Test]
    public void ParsedPoliciesBehaveAsNamed()
    {
        using var strict = ManyUnflushedLines();
        strict.Space.Crash(CrashPolicy.Parse("strict"));
        using var all = ManyUnflushedLines();
        var current = all.Load(0, Lines * 64);
        all.Space.Crash(CrashPolicy.Parse("all"));

        Assert.That(strict.Persisted(0, Lines * 64).All(b => b == 0), Is.True);
        Assert.That(all.Persisted(0, Lines * 64), Is.EqualTo(current));
        Assert.That(ImageAfterRandomCrashParsed("random:9"), Is.EqualTo(ImageAfterRandomCrash(9)));
    }

    private static byte[] ImageAfterRandomCrashParsed(string text)
    {
        using var p = ManyUnflushedLines();
        p.Space.Crash(CrashPolicy.Parse(text));
        return p.Persisted(0, Lines * 64);
    }
}
