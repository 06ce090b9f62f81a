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
            Assert.That(error, Does.StartWith("io: no image given"));
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
    public void MountingAnXfsImageSaysItIsNotWiredYet()
    {
        string image = FsTestDevice.SparseImage(_dir, "x.img", 64L << 20);
        var (mkfs, _, mkfsErr) = CliRun.Run("mkfs", "-q", image);
        Assert.That(mkfs, Is.Zero, mkfsErr);
        var (status, output, error) = CliRun.Run("io", "-f", "-c", "pwrite 0 4k", image + ":/f");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(output, Is.Empty);
            Assert.That(error, Does.Contain("xfs mounting not wired yet"));
        });
    }
}
