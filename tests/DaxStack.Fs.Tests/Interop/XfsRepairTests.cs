using DaxStack.Fs.Tests.Cli;

namespace DaxStack.Fs.Tests.Interop;

/// <summary>The gate of issue 4: xfs_repair -n accepts every image daxstack mkfs makes, and rejects damaged ones.</summary>
[NonParallelizable]
public class XfsRepairTests
{
    private const long MiB = 1 << 20;
    private const long GiB = 1L << 30;
    private string _dir = "";
    private int _images;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-repair-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string Mkfs(long size, params string[] options)
    {
        string image = FsTestDevice.SparseImage(_dir, $"fs{_images++}.img", size);
        var (status, _, error) = CliRun.Run(["mkfs", "-q", .. options, image]);
        Assert.That(status, Is.Zero, error);
        return image;
    }

    private static void AssertRepairPasses(string image)
    {
        var (status, output, error) = XfsProgs.RepairNoModify(image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, $"xfs_repair -n failed:\n{output}\n{error}");
            Assert.That(output + error, Does.Not.Contain("would").IgnoreCase.And.Not.Contain("bad ").IgnoreCase);
            Assert.That(output + error, Does.Contain("Phase 7 - verify link counts"));
        });
    }

    [TestCase(64 * MiB, 2)]
    [TestCase(64 * MiB, 4)]
    [TestCase(300 * MiB, 4)]
    [TestCase(300 * MiB, 16)]
    [TestCase(1 * GiB, 4)]
    [TestCase(1 * GiB, 16)]
    [TestCase(8 * GiB, 2)]
    [TestCase(8 * GiB, 16)]
    public void XfsRepairAcceptsOurImage(long size, int agcount)
    {
        AssertRepairPasses(Mkfs(size, "-d", $"agcount={agcount}"));
    }

    [TestCase(48 * MiB)]
    [TestCase(200 * MiB)]
    public void XfsRepairAcceptsOurImageWithDefaultsAndWithoutReflink(long size)
    {
        AssertRepairPasses(Mkfs(size));
        AssertRepairPasses(Mkfs(size, "-f", "-m", "reflink=0", "-L", "noreflink"));
    }

    [TestCase(0x96, "primary superblock (sb_fdblocks)")]
    [TestCase(4096L * 4096 + 512 + 55, "agf 1 (agf_freeblks)")]
    [TestCase(2 * 4096L * 4096 + 1024 + 31, "agi 2 (agi_freecount)")]
    [TestCase(12 * 4096 + 512 + 16, "inode 97 (di_nlink)")]
    [TestCase(8198 * 4096L + 0x209, "the log's unmount record (op flags)")]
    public void XfsRepairRejectsOurImageWithAFlippedBit(long offset, string what)
    {
        string image = Mkfs(64 * MiB);
        AssertRepairPasses(image);
        using (var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = offset;
            int b = f.ReadByte();
            f.Position = offset;
            f.WriteByte((byte)(b ^ 0x22));
        }
        var (status, output, error) = XfsProgs.RepairNoModify(image);
        Assert.That(status, Is.Not.Zero, $"xfs_repair -n passed an image with a flipped bit in {what}:\n{output}\n{error}");
    }
}
