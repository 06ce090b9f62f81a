namespace DaxStack.Fs.Tests.Cli;

public class MkfsCommandTests
{
    private const long MiB = 1 << 20;
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-mkfs-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string Image(long size = 64 * MiB) => FsTestDevice.SparseImage(_dir, $"img{Guid.NewGuid():N}", size);

    [Test]
    public void PrintsTheGeometrySummaryLikeMkfsXfs()
    {
        string image = Image();
        var (status, output, error) = CliRun.Run("mkfs", image);
        var name = image.PadRight(22);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, error);
            Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[]
            {
                $"meta-data={name} isize=512    agcount=4, agsize=4096 blks",
                "         =                       sectsz=512   attr=2, projid32bit=1",
                "         =                       crc=1        finobt=1, sparse=0, rmapbt=0",
                "         =                       reflink=1    bigtime=1 inobtcount=1 nrext64=0",
                "data     =                       bsize=4096   blocks=16384, imaxpct=25",
                "         =                       sunit=0      swidth=0 blks",
                "naming   =version 2              bsize=4096   ascii-ci=0, ftype=1",
                "log      =internal log           bsize=4096   blocks=1368, version=2",
                "         =                       sectsz=512   sunit=0 blks, lazy-count=1",
                "realtime =none                   extsz=4096   blocks=0, rtextents=0",
            }));
        });
    }

    [Test]
    public void OptionsFollowMkfsXfs()
    {
        string image = Image(128 * MiB);
        var (status, output, error) = CliRun.Run("mkfs", "-b", "size=4k", "-d", "agcount=8", "-m", "crc=1,finobt=1,reflink=0,rmapbt=0", "-i", "sparse=0", "-L", "scratch", image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, error);
            Assert.That(output, Does.Contain("agcount=8, agsize=4096 blks"));
            Assert.That(output, Does.Contain("reflink=0"));
            Assert.That(output, Does.Contain("blocks=857, version=2"));
        });
        var (dbStatus, dbOut, _) = CliRun.Run("db", image, "-c", "sb 0", "-c", "p fname agcount");
        Assert.Multiple(() =>
        {
            Assert.That(dbStatus, Is.Zero);
            Assert.That(dbOut, Is.EqualTo("fname = \"scratch\\000\\000\\000\\000\\000\"\nagcount = 8\n").Or.EqualTo("fname = \"scratch\\000\\000\\000\\000\\000\"\r\nagcount = 8\r\n"));
        });
    }

    [Test]
    public void RefusesToOverwriteAFilesystemWithoutForce()
    {
        string image = Image();
        Assert.That(CliRun.Run("mkfs", "-q", image).Status, Is.Zero);
        var (status, _, error) = CliRun.Run("mkfs", "-q", "-d", "agcount=2", image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error, Is.EqualTo($"mkfs: {image} appears to contain an existing filesystem (xfs).{Environment.NewLine}mkfs: Use the -f option to force overwrite.{Environment.NewLine}"));
        });
        Assert.That(CliRun.Run("mkfs", "-q", "-f", "-d", "agcount=2", image).Status, Is.Zero);
    }

    [Test]
    public void DryRunPrintsTheGeometryAndWritesNothing()
    {
        string image = Image();
        var (status, output, _) = CliRun.Run("mkfs", "-N", image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero);
            Assert.That(output, Does.Contain("agcount=4"));
            Assert.That(File.ReadAllBytes(image).Take(4096), Is.All.EqualTo((byte)0));
        });
    }

    [TestCase("-b", "size=8192", "-b size=8192: block size must be 4096")]
    [TestCase("-b", "size=1000", "Invalid value 1000 for -b size option. Value must be a power of 2.")]
    [TestCase("-d", "agcount=abc", "Invalid value abc for -d agcount option. Value not recognized as number.")]
    [TestCase("-d", "agcount=0", "Invalid value 0 for -d agcount option. Value is too small.")]
    [TestCase("-d", "agcount=1", "-d agcount=1: at least 2 allocation groups are required")]
    [TestCase("-d", "agcount=16", "agsize (1024 blocks) too small, need at least 4096 blocks")]
    [TestCase("-d", "agsize=16m", "-d agsize is not supported by daxstack mkfs")]
    [TestCase("-d", "frob=1", "unknown option -d frob=1")]
    [TestCase("-d", "agcount=2,agcount=3", "-d agcount option respecified")]
    [TestCase("-m", "reflink=2", "Invalid value 2 for -m reflink option. Value is too large.")]
    [TestCase("-m", "crc=0", "-m crc=0 is not supported")]
    [TestCase("-m", "rmapbt=1", "-m rmapbt=1 is not supported")]
    [TestCase("-m", "uuid=nope", "Invalid value nope for -m uuid option. Value is not a UUID.")]
    [TestCase("-i", "sparse=1", "-i sparse=1 is not supported")]
    [TestCase("-i", "size=256", "-i size=256 is not supported")]
    [TestCase("-L", "thirteen-char", "-L thirteen-char: a label is at most 12 bytes")]
    public void ABadOptionValueFailsNamingTheOption(string option, string value, string message)
    {
        string image = Image();
        var (status, _, error) = CliRun.Run("mkfs", option, value, image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("mkfs: " + message));
            Assert.That(File.ReadAllBytes(image).Take(4096), Is.All.EqualTo((byte)0), "nothing written");
        });
    }

    [Test]
    public void ATooSmallImageIsRefused()
    {
        string image = Image(16 * MiB);
        var (status, _, error) = CliRun.Run("mkfs", image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("mkfs: size 4096 of data subvolume is too small, minimum 8192 blocks"));
        });
    }

    [Test]
    public void AMissingImageIsAClearError()
    {
        var (status, _, error) = CliRun.Run("mkfs", Path.Combine(_dir, "absent.img"));
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("mkfs: image '").And.Contain("does not exist"));
        });
    }

    [Test]
    public void FormatsTheNamespaceOfALabelledImage()
    {
        string image = Path.Combine(_dir, "labelled.img");
        Assert.That(CliRun.Run("ndctl", "create-namespace", "--image", image, "--size", "128M", "--mode", "fsdax").Status, Is.Zero);
        var (status, output, error) = CliRun.Run("mkfs", image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, error);
            Assert.That(output, Does.Contain("agcount=4, agsize=8192 blks"));
        });
        var (dbStatus, dbOut, _) = CliRun.Run("db", image, "-c", "sb 0", "-c", "p dblocks");
        Assert.That((dbStatus, dbOut.Trim()), Is.EqualTo((0, "dblocks = 32768")));
    }

    [Test]
    public void AnImageWithSeveralNamespacesNeedsNamespace()
    {
        string image = Path.Combine(_dir, "two.img");
        Assert.That(CliRun.Run("ndctl", "create-namespace", "--image", image, "--size", "128M", "--mode", "fsdax").Status, Is.Zero);
        Assert.That(CliRun.Run("ndctl", "destroy-namespace", "--image", image, "-f", "namespace0.0").Status, Is.Zero);
        Assert.That(CliRun.Run("ndctl", "create-namespace", "--image", image, "--size", "64M", "--mode", "fsdax").Status, Is.Zero);
        Assert.That(CliRun.Run("ndctl", "create-namespace", "--image", image, "--size", "64M", "--mode", "raw").Status, Is.Zero);
        var (status, _, error) = CliRun.Run("mkfs", image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error, Does.Contain("has 2 block namespaces (namespace0.0, namespace0.1): choose one with --namespace"));
        });
        Assert.That(CliRun.Run("mkfs", "-q", "--namespace", "0.1", image).Status, Is.Zero);
    }

    [Test]
    public void NoImageIsAClearError()
    {
        var (status, _, error) = CliRun.Run("mkfs", "-f");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("mkfs: missing argument IMAGE"));
        });
    }

    [Test]
    public void AnEmptyImageNameIsAClearError()
    {
        var (status, _, error) = CliRun.Run("mkfs", "-f", "");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("mkfs: No device name specified"));
        });
    }
}
