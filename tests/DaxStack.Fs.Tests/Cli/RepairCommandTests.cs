using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Cli;

/// <summary><c>daxstack repair -n IMAGE</c>: phases, problem lines and exit status 0 (clean), 1 (problems), 2 (cannot check).</summary>
public class RepairCommandTests
{
    private const long MiB = 1 << 20;
    private string _dir = "";
    private string _image = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("daxstack-repaircli-").FullName;
        _image = FsTestDevice.SparseImage(_dir, "fs.img", 64 * MiB);
        Assert.That(CliRun.Run("mkfs", "-q", _image).Status, Is.Zero);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Test]
    public void ACleanImagePrintsSevenPhasesAndExitsZero()
    {
        var (status, output, error) = CliRun.Run("repair", "-n", _image);
        var lines = Lines(output);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, output + error);
            Assert.That(lines.Where(l => l.StartsWith("Phase ", StringComparison.Ordinal)).Select(l => l[..7]),
                Is.EqualTo(Enumerable.Range(1, 7).Select(i => $"Phase {i}")));
            Assert.That(lines[^1], Is.EqualTo("No problems found."));
            Assert.That(error, Is.Empty);
        });
    }

    [Test]
    public void ADamagedImagePrintsOneLinePerProblemAndExitsOne()
    {
        using (var f = new FileStream(_image, FileMode.Open, FileAccess.ReadWrite))
        {
            var sector = new byte[512];
            f.Position = 4096L * 4096 + 512;
            f.ReadExactly(sector);
            Be.Put32(sector, 52, Be.U32(sector, 52) + 3);
            XfsCrc.Stamp(sector, XfsFormat.AgfCrcOffset);
            f.Position = 4096L * 4096 + 512;
            f.Write(sector);
        }
        var (status, output, _) = CliRun.Run("repair", "-n", "-f", _image);
        var lines = Lines(output);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(lines, Has.Some.Match(@"^agf 1: freeblks \d+ but the free-space B\+trees hold \d+$"));
            Assert.That(lines, Has.Some.Match(@"^sb 0: fdblocks \d+ but the AGFs hold \d+ free blocks$"));
            Assert.That(lines[^1], Is.EqualTo("2 problems found."));
        });
    }

    [Test]
    public void ABadConfigurationCannotBeCheckedAndExitsTwo()
    {
        var (status, output, error) = CliRun.Run("repair", "-n", _image, "--Pmem:QueueCont=3");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(2), "could not check: not 1, which says the filesystem has problems");
            Assert.That(output, Is.Empty);
            Assert.That(error, Does.Contain("'QueueCont'"));
        });
    }

    [Test]
    public void AMissingImageCannotBeCheckedAndExitsTwo()
    {
        var (status, output, error) = CliRun.Run("repair", "-n", Path.Combine(_dir, "absent.img"));
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(2));
            Assert.That(output, Is.Empty);
            Assert.That(error, Does.StartWith("repair: cannot open ").And.Contain("does not exist"));
        });
    }

    [Test]
    public void AnImageWithoutAFilesystemCannotBeCheckedAndExitsTwo()
    {
        string blank = FsTestDevice.SparseImage(_dir, "blank.img", 16 * MiB);
        var (status, _, error) = CliRun.Run("repair", "-n", blank);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(2));
            Assert.That(error, Does.StartWith($"repair: {blank} cannot be checked: no usable XFS superblock"));
        });
    }

    [Test]
    public void WithoutNoModifyTheCommandRefusesToRun()
    {
        var (status, output, error) = CliRun.Run("repair", _image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(2));
            Assert.That(output, Is.Empty);
            Assert.That(error, Does.Contain("only the no-modify mode (-n) is supported"));
        });
    }
}
