using DaxStack.Fs.Tests.Cli;

namespace DaxStack.Fs.Tests.Interop;

/// <summary>xfs_db -r reads our structures with our values, and prints them exactly as daxstack db does.</summary>
[NonParallelizable]
public class XfsDbInteropTests
{
    private const long GiB = 1L << 30;
    private const string Uuid = "6f1c9a5e-2b7d-4c1e-9f3a-0d8e7b6a5c41";
    private string _dir = "";
    private string _image = "";

    [OneTimeSetUp]
    public void MakeImage()
    {
        _dir = Directory.CreateTempSubdirectory("daxstack-xfsdb-").FullName;
        _image = FsTestDevice.SparseImage(_dir, "fs.img", 1 * GiB);
        var (status, _, error) = CliRun.Run("mkfs", "-q", "-d", "agcount=16", "-m", $"uuid={Uuid}", "-L", "daxstack", _image);
        Assert.That(status, Is.Zero, error);
    }

    [OneTimeTearDown]
    public void RemoveImage() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void XfsDbShowsOurSuperblockValues()
    {
        var sb = XfsProgs.DbFields(_image, "sb 0");
        Assert.Multiple(() =>
        {
            Assert.That(sb["magicnum"], Is.EqualTo("0x58465342"));
            Assert.That(sb["uuid"], Is.EqualTo(Uuid));
            Assert.That(sb["agcount"], Is.EqualTo("16"));
            Assert.That(sb["agblocks"], Is.EqualTo("16384"));
            Assert.That(sb["dblocks"], Is.EqualTo("262144"));
            Assert.That(sb["logblocks"], Is.EqualTo("16373"));
            Assert.That(sb["rootino"], Is.EqualTo("96"));
            Assert.That(sb["icount"], Is.EqualTo("64"));
            Assert.That(sb["ifree"], Is.EqualTo("61"));
            Assert.That(sb["fname"], Does.StartWith("\"daxstack"));
            Assert.That(sb["crc"], Does.EndWith("(correct)"));
        });
    }

    [Test]
    public void XfsDbShowsOurAgHeadersAndRootInodeWithCorrectCrcs()
    {
        var agf = XfsProgs.DbFields(_image, "agf 8");
        var agi = XfsProgs.DbFields(_image, "agi 0");
        var root = XfsProgs.DbFields(_image, "inode 96");
        Assert.Multiple(() =>
        {
            Assert.That(agf["seqno"], Is.EqualTo("8"));
            Assert.That(agf["freeblks"], Is.EqualTo("1"), "AG 8 holds the 16373-block log, 6 root blocks and 4 AGFL blocks");
            Assert.That(agf["crc"], Does.EndWith("(correct)"));
            Assert.That(agi["count"], Is.EqualTo("64"));
            Assert.That(agi["newino"], Is.EqualTo("96"));
            Assert.That(agi["crc"], Does.EndWith("(correct)"));
            Assert.That(root["core.mode"], Is.EqualTo("040755"));
            Assert.That(root["core.format"], Is.EqualTo("1 (local)"));
            Assert.That(root["u3.sfdir3.hdr.parent.i4"], Is.EqualTo("96"));
            Assert.That(root["v3.crc"], Does.EndWith("(correct)"));
        });
    }

    [TestCase("sb 0")]
    [TestCase("sb 7")]
    [TestCase("sb 15")]
    [TestCase("agf 0")]
    [TestCase("agf 8")]
    [TestCase("agi 0")]
    [TestCase("agi 15")]
    [TestCase("agfl 0")]
    [TestCase("agfl 8")]
    [TestCase("inode 96")]
    [TestCase("inode 97")]
    [TestCase("inode 98")]
    [TestCase("inode 130")]
    public void DaxstackDbPrintsExactlyWhatXfsDbPrints(string select)
    {
        var expected = XfsProgs.Db(_image, select, "print");
        var (status, output, error) = CliRun.Run("db", _image, "-c", select, "-c", "print");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, error);
            Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(expected));
        });
    }
}
