using DaxStack.Fs.Xfs.Repair;

namespace DaxStack.Fs.Tests.Xfs.Repair;

/// <summary>Images no one damaged check clean: fresh ones from our mkfs and populated ones from real mkfs.xfs.</summary>
[NonParallelizable]
public class XfsCheckerCleanTests
{
    private const long MiB = 1 << 20;
    private const long GiB = 1L << 30;

    private static string Describe(XfsRepairReport report)
    {
        var w = new StringWriter();
        report.WriteTo(w);
        return w.ToString();
    }

    [TestCase(48 * MiB, null, true)]
    [TestCase(64 * MiB, 2u, true)]
    [TestCase(64 * MiB, 4u, false)]
    [TestCase(300 * MiB, 16u, true)]
    [TestCase(1 * GiB, 4u, false)]
    [TestCase(1 * GiB, 7u, true)]
    public void AFreshImageFromOurMkfsChecksClean(long size, uint? agcount, bool reflink)
    {
        using var rig = RepairRig.OurMkfs(size, agcount, reflink);
        var report = rig.Check();
        Assert.Multiple(() =>
        {
            Assert.That(report.IsClean, Is.True, Describe(report));
            Assert.That(report.Notes, Is.Empty, Describe(report));
        });
    }

    [TestCase(64 * MiB, "agcount=4")]
    [TestCase(400 * MiB, "agcount=3")]
    public void AnEmptyImageFromMkfsXfsChecksClean(long size, string data)
    {
        using var rig = RepairRig.MkfsXfs(size, null, null, "-d", data);
        var report = rig.Check();
        Assert.That(report.IsClean, Is.True, Describe(report));
    }

    /// <summary>A protofile with data files, nested short-form directories, a hard link's worth of names, a symlink and a device.</summary>
    internal const string SmallTree = """
        hello ---644 1000 1000 {content}/hello
        big ---644 0 0 {content}/big
        huge ---600 0 0 {content}/huge
        link l--777 0 0 hello
        sub d--750 0 0
        inner ---644 0 0 {content}/hello
        deeper d--755 0 0
        fifo p--644 0 0
        $
        empty d--700 0 0
        $
        $

        """;

    internal static void MakeContent(string dir)
    {
        File.WriteAllText(Path.Combine(dir, "hello"), "hello\n");
        var rng = new Random(7);
        var big = new byte[20000];
        rng.NextBytes(big);
        File.WriteAllBytes(Path.Combine(dir, "big"), big);
        var huge = new byte[3 * 1024 * 1024 + 123];
        rng.NextBytes(huge);
        File.WriteAllBytes(Path.Combine(dir, "huge"), huge);
    }

    [Test]
    public void APopulatedImageFromMkfsXfsChecksCleanWithEveryDirectoryListed()
    {
        using var rig = RepairRig.MkfsXfs(64 * MiB, SmallTree, MakeContent, "-d", "agcount=2");
        var report = rig.Check();
        Assert.Multiple(() =>
        {
            Assert.That(report.IsClean, Is.True, Describe(report));
            Assert.That(report.Notes, Is.Empty, Describe(report));
        });
    }

    [Test]
    public void ALeafDirectoryIsCheckedAndItsLinkCountsAreCompared()
    {
        var body = new System.Text.StringBuilder("many d--755 0 0\n");
        for (int i = 0; i < 150; i++)
            body.Append($"file_with_a_long_name_{i:D4} ---644 0 0 {{content}}/hello\n");
        body.Append("$\n");
        using var rig = RepairRig.MkfsXfs(64 * MiB, body.ToString(), MakeContent, "-d", "agcount=2");
        var report = rig.Check();
        Assert.Multiple(() =>
        {
            Assert.That(report.IsClean, Is.True, Describe(report));
            Assert.That(report.Notes, Is.Empty, Describe(report));
        });
    }
}
