namespace DaxStack.Fs.Tests.Cli;

public class DbCommandTests
{
    private const long MiB = 1 << 20;
    private string _dir = "";
    private string _image = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("daxstack-db-").FullName;
        _image = FsTestDevice.SparseImage(_dir, "fs.img", 64 * MiB);
        Assert.That(CliRun.Run("mkfs", "-q", "-m", "uuid=3b7a1e81-7bd2-44f1-939a-b79991af432e", _image).Status, Is.Zero);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Test]
    public void PrintsTheSuperblockInXfsDbForm()
    {
        var (status, output, error) = CliRun.Run("db", _image, "-c", "sb 0", "-c", "print");
        var lines = Lines(output);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, error);
            Assert.That(lines, Has.Length.EqualTo(55));
            Assert.That(lines, Does.Contain("magicnum = 0x58465342"));
            Assert.That(lines, Does.Contain("uuid = 3b7a1e81-7bd2-44f1-939a-b79991af432e"));
            Assert.That(lines, Does.Contain("agcount = 4"));
            Assert.That(lines, Does.Contain("rootino = 96"));
            Assert.That(lines, Does.Contain("features_compat = 0"));
            Assert.That(lines, Does.Contain("features_ro_compat = 0xd"));
            Assert.That(lines.Single(l => l.StartsWith("crc = ", StringComparison.Ordinal)), Does.EndWith("(correct)"));
        });
    }

    [Test]
    public void SelectsAgHeadersAndInodesAndPrintsNamedFields()
    {
        var (status, output, _) = CliRun.Run("db", "-r", _image, "-c", "agf 2", "-c", "p freeblks flcount", "-c", "agi 0",
            "-c", "p count freecount newino", "-c", "inode 96", "-c", "p core.mode core.format u3");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero);
            Assert.That(Lines(output), Is.EqualTo(new[]
            {
                "freeblks = 2718", "flcount = 4", "count = 64", "freecount = 61", "newino = 96",
                "core.mode = 040755", "core.format = 1 (local)",
                "u3.sfdir3.hdr.count = 0", "u3.sfdir3.hdr.i8count = 0", "u3.sfdir3.hdr.parent.i4 = 96",
            }));
        });
    }

    [Test]
    public void ACorruptStructureIsShownWithItsCrcMarkedBadAfterAWarning()
    {
        using (var f = new FileStream(_image, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = 4096L * 4096 + 512 + 52; // agf 1, agf_freeblks
            f.WriteByte(0x7f);
        }
        var (status, output, error) = CliRun.Run("db", _image, "-c", "agf 1", "-c", "p freeblks crc");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero);
            Assert.That(error, Does.Contain("db: agf 1: CRC mismatch"));
            Assert.That(output, Does.Contain("freeblks = 2130710518"));
            Assert.That(output, Does.Contain("(bad)"));
        });
    }

    [TestCase("agf 4", "bad allocation group number 4")]
    [TestCase("inode 5", "bad inode number 5")]
    [TestCase("frob", "command frob not found")]
    [TestCase("print", "print: no current object")]
    public void AFailedCommandIsReportedAndTheStatusIsNonZero(string command, string message)
    {
        var (status, _, error) = CliRun.Run("db", _image, "-c", command);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error, Does.StartWith(message));
        });
    }

    [Test]
    public void AnUnknownFieldPrintsNothing()
    {
        var (status, output, error) = CliRun.Run("db", _image, "-c", "sb", "-c", "p agcount nosuchfield");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(output, Is.Empty);
            Assert.That(error, Does.StartWith("field nosuchfield not found"));
        });
    }

    [Test]
    public void AnImageWithoutAFilesystemIsAClearError()
    {
        string blank = FsTestDevice.SparseImage(_dir, "blank.img", 64 * MiB);
        var (status, _, error) = CliRun.Run("db", blank, "-c", "sb 0", "-c", "p");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error, Does.StartWith($"db: {blank} is not a valid XFS filesystem: sb 0: bad magic number 0x0"));
        });
    }
}
