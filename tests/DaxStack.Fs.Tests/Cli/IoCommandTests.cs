namespace DaxStack.Fs.Tests.Cli;

public class IoCommandTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-io-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void WithoutAnImageItFails()
    {
        var (status, _, error) = CliRun.Run("io", "-c", "help");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("io: missing argument IMAGE[:PATH]"));
        });
    }

    [Test]
    public void AMissingImageIsReported()
    {
        string missing = Path.Combine(_dir, "none.img");
        var (status, _, error) = CliRun.Run("io", "-c", "stat", missing + ":/f");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error.TrimEnd(), Is.EqualTo($"io: cannot open {missing}:/f: No such file or directory"));
        });
    }

    [Test]
    public void AnUnknownCapabilityIsRefused()
    {
        string image = FsTestDevice.SparseImage(_dir, "a.img", 64L << 20);
        var (status, _, error) = CliRun.Run("io", "--cap-drop", "CAP_FLY", image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error.TrimEnd(), Is.EqualTo("io: unknown capability 'CAP_FLY'"));
        });
    }

    [Test]
    public void DataWrittenOnAnImageReadsBackInTheNextRunAndTheImagePassesBothCheckers()
    {
        string image = FsTestDevice.SparseImage(_dir, "x.img", 64L << 20);
        var (mkfs, _, mkfsErr) = CliRun.Run("mkfs", "-q", image);
        Assert.That(mkfs, Is.Zero, mkfsErr);
        var (status, output, error) = CliRun.Run("io", "-f", "-c", "pwrite -S 0x61 0 8k", "-c", "fsync", "-c", "mkdir /d", "-c", "link /f /d/g", image + ":/f");
        Assert.That(status, Is.Zero, error);
        Assert.That(output, Does.StartWith("wrote 8192/8192 bytes at offset 0"));
        (status, output, error) = CliRun.Run("io", "-c", "pread -v 4094 4", "-c", "stat", image + ":/d/g");
        Assert.That(status, Is.Zero, error);
        Assert.That(output, Does.Contain("00000ffe:  61 61 61 61").And.Contain("stat.size = 8192"));
        var (repair, repairOut, repairErr) = CliRun.Run("repair", "-n", image);
        Assert.That(repair, Is.Zero, repairOut + repairErr);
        Interop.XfsProgs.AssertRepairPasses(image, "after daxstack io wrote a file, a directory and a hard link");
    }

    [Test]
    public void ACrashKeepsWhatFsyncMadeDurableAndTheNextRunRecoversTheLog()
    {
        string image = FsTestDevice.SparseImage(_dir, "c.img", 64L << 20);
        var (mkfs, _, mkfsErr) = CliRun.Run("mkfs", "-q", image);
        Assert.That(mkfs, Is.Zero, mkfsErr);
        var (status, _, error) = CliRun.Run("io", "-f", "-c", "pwrite 0 4k", "-c", "fsync", "-c", "pwrite 4096 4k", "-c", "crash", image + ":/f");
        Assert.That(status, Is.Zero, error);
        (status, var output, error) = CliRun.Run("io", "-c", "stat", image + ":/f");
        Assert.That(status, Is.Zero, error);
        // The second write's size change was never forced: the power cut lost it, never the first.
        Assert.That(output, Does.Contain("stat.size = 4096"));
        var (repair, repairOut, repairErr) = CliRun.Run("repair", "-n", image);
        Assert.That(repair, Is.Zero, repairOut + repairErr);
        Interop.XfsProgs.AssertRepairPasses(image, "after a crash and log recovery");
    }
}
