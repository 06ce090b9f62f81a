using System.Text.RegularExpressions;
using DaxStack.Fs.Ramfs;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Cli;

public partial class IoDataCommandTests
{
    // "64 KiB, 16 ops; 0.0001 sec (1.234 GiB/sec and 123.4567 ops/sec)"; the time may be H:MM:SS.hh on a slow machine.
    [GeneratedRegex(@"^(?<size>\S+ (?:bytes|[KMGTPE]iB)), (?<ops>\d+) ops; (?:0\.\d{4} sec|\d+:\d\d:\d\d\.\d\d) \(\S+ (?:bytes|[KMGTPE]iB)/sec and \d+\.\d{4} ops/sec\)$")]
    private static partial Regex RateLine();

    [Test]
    public void PwriteReportsTheBytesWrittenAndTheRateLine()
    {
        using var t = new IoTestSession();
        int status = t.Run("open -c /f", "pwrite 0 64k");
        var lines = t.OutLines;
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(lines, Has.Length.EqualTo(2));
            Assert.That(lines[0], Is.EqualTo("wrote 65536/65536 bytes at offset 0"));
            var m = RateLine().Match(lines[1]);
            Assert.That(m.Success, Is.True, lines[1]);
            Assert.That(m.Groups["size"].Value, Is.EqualTo("64 KiB"));
            Assert.That(m.Groups["ops"].Value, Is.EqualTo("16"));
            Assert.That(t.Process.Stat("/f").Size, Is.EqualTo(65536));
        });
    }

    [Test]
    public void PwriteBlockSizeSetsTheNumberOfWrites()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "pwrite -b 1k 4k 4k");
        var lines = t.OutLines;
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo("wrote 4096/4096 bytes at offset 4096"));
            Assert.That(RateLine().Match(lines[1]).Groups["ops"].Value, Is.EqualTo("4"));
        });
    }

    [Test]
    public void PwriteFillsWithCdAndSeedSetsTheByte()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "pwrite 0 16", "pwrite -S 0x41 16 20");
        t.ClearOutput();
        int status = t.Run("pread -v 0 36");
        var lines = t.OutLines;
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(lines[0], Is.EqualTo("00000000:  cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd  ................"));
            Assert.That(lines[1], Is.EqualTo("00000010:  41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41  AAAAAAAAAAAAAAAA"));
            Assert.That(lines[2], Is.EqualTo("00000020:  41 41 41 41  AAAA"));
            Assert.That(lines[3], Is.EqualTo("read 36/36 bytes at offset 0"));
            Assert.That(RateLine().Match(lines[4]).Groups["size"].Value, Is.EqualTo("36.000000 bytes"));
        });
    }

    [Test]
    public void PreadAtEndOfFileReadsNothing()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "pread 0 4k");
        var lines = t.OutLines;
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo("read 0/4096 bytes at offset 0"));
            Assert.That(RateLine().Match(lines[1]).Groups["ops"].Value, Is.EqualTo("0"));
        });
    }

    [Test]
    public void PwriteOnAFullFilesystemPrintsEnospcAndFails()
    {
        using var t = new IoTestSession(new RamfsOptions { CapacityBytes = 8192 });
        int status = t.Run("open -c /f", "pwrite 0 64k");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("pwrite: No space left on device\n"));
            Assert.That(t.Out, Is.Empty);
        });
    }

    [Test]
    public void WritingAFileOpenedReadOnlyFailsWithEbadf()
    {
        using var t = new IoTestSession();
        int status = t.Run("open -c /f", "close", "open -r /f", "pwrite 0 4k", "truncate 0", "fpunch 0 4k");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("pwrite: Bad file descriptor\nftruncate: Invalid argument\nfallocate: Bad file descriptor\n"));
        });
    }

    [TestCase("pwrite 0 4k")]
    [TestCase("pread 0 4k")]
    [TestCase("fsync")]
    [TestCase("fdatasync")]
    [TestCase("truncate 0")]
    [TestCase("falloc 0 4k")]
    [TestCase("fpunch 0 4k")]
    [TestCase("fzero 0 4k")]
    [TestCase("fcollapse 0 4k")]
    [TestCase("finsert 0 4k")]
    [TestCase("funshare 0 4k")]
    [TestCase("fiemap")]
    [TestCase("reflink /f")]
    [TestCase("lsattr")]
    [TestCase("chattr +i")]
    [TestCase("stat")]
    [TestCase("close")]
    public void FileCommandsWithNoOpenFileSayHowToOpenOne(string command)
    {
        using var t = new IoTestSession();
        int status = t.Run(command);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("no files are open, try 'help open'\n"));
        });
    }

    [TestCase("pwrite 0 12q", "non-numeric length argument -- 12q")]
    [TestCase("pwrite x 4k", "non-numeric offset argument -- x")]
    [TestCase("pwrite -S zz 0 4k", "non-numeric seed -- zz")]
    [TestCase("pwrite -b big 0 4k", "non-numeric bsize -- big")]
    [TestCase("pread x 4k", "non-numeric length argument -- x")]
    [TestCase("truncate 1x", "non-numeric truncate argument -- 1x")]
    [TestCase("falloc 0 q", "non-numeric length argument -- q")]
    [TestCase("fiemap x", "non-numeric offset argument -- x")]
    [TestCase("reflink /f 0 q 4k", "non-numeric dest offset argument -- q")]
    public void NumbersThatDoNotParseAreReportedAsXfsIoDoes(string command, string message)
    {
        using var t = new IoTestSession();
        t.Run("open -c /f");
        int status = t.Run(command);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Out, Is.EqualTo(message + "\n"));
        });
    }

    [TestCase("pwrite -Z 0 4k", "pwrite [-b bs] [-S seed] [-qwW] off len -- writes a number of bytes at a specified offset")]
    [TestCase("pread 0 4k 8k", "pread [-b bs] [-qv] off len -- reads a number of bytes at a specified offset")]
    [TestCase("falloc -z 0 4k", "falloc [-c] [-i] [-k] [-p] [-u] off len -- allocates space associated with part of a file via fallocate")]
    [TestCase("fzero -q 0 4k", "fzero [-k] off len -- zeroes space and eliminates holes by preallocating")]
    [TestCase("stat -rv", "stat [-v|-r] -- statistics on the currently open file")]
    [TestCase("reflink /f 0 0", "reflink infile [src_off dst_off len] -- reflinks an entire file, or a number of bytes at a specified offset")]
    [TestCase("fiemap -q", "fiemap [-alv] [-n nx] [offset [len]] -- print block mapping for a file")]
    [TestCase("lsattr -R", "lsattr [-a|-v] -- list extended inode flags set on the currently open file")]
    [TestCase("open -q /f", "open [-acdfnrstD] [-m mode] [path] -- open the file specified by path")]
    public void BadArgumentsPrintTheUsageLine(string command, string usage)
    {
        using var t = new IoTestSession();
        t.Run("open -c /f");
        int status = t.Run(command);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Out, Is.EqualTo(usage + "\n"));
        });
    }

    [Test]
    public void AWrongArgumentCountIsReported()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f");
        int status = t.Run("truncate", "fpunch 0", "pwrite 0");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo(
                "bad argument count 0 to truncate, expected 1 arguments\n" +
                "bad argument count 1 to fpunch, expected 2 arguments\n" +
                "bad argument count 1 to pwrite, expected at least 2 arguments\n"));
        });
    }

    [Test]
    public void FsyncAndFdatasyncReachTheFilesystem()
    {
        using var t = new IoTestSession();
        int status = t.Run("open -c /f", "pwrite 0 4k", "fsync", "fdatasync", "s", "pwrite -W -w 0 4k");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(t.Super.FsyncCalls, Is.EqualTo(5));
        });
    }

    [Test]
    public void TruncateSetsTheSize()
    {
        using var t = new IoTestSession();
        int status = t.Run("open -c /f", "pwrite 0 8k", "truncate 1k", "t 3s");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(t.Process.Stat("/f").Size, Is.EqualTo(1536));
        });
    }

    [Test]
    public void FallocExtendsTheSizeAndKeepsItWithK()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "falloc 0 8k");
        long afterAlloc = t.Process.Stat("/f").Size;
        int status = t.Run("falloc -k 8k 8k");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(afterAlloc, Is.EqualTo(8192));
            Assert.That(t.Process.Stat("/f").Size, Is.EqualTo(8192));
            Assert.That(t.Process.Stat("/f").Blocks, Is.EqualTo(32));
        });
    }

    [Test]
    public void FpunchAndFzeroChangeTheData()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "pwrite 0 12k", "fpunch 0 4k", "fzero 4k 4k", "fzero -k 12k 4k");
        t.ClearOutput();
        int status = t.Run("pread -v 4095 2", "pread -v 8191 2");
        var lines = t.OutLines;
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(lines[0], Is.EqualTo("00000fff:  00 00  .."));
            Assert.That(lines[3], Is.EqualTo("00001fff:  00 cd  .."));
            Assert.That(t.Process.Stat("/f").Size, Is.EqualTo(12288));
        });
    }

    [TestCase("fcollapse 0 4k")]
    [TestCase("finsert 0 4k")]
    [TestCase("funshare 0 4k")]
    [TestCase("falloc -c 0 4k")]
    public void ModesRamfsLacksFailWithEopnotsupp(string command)
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "pwrite 0 16k");
        t.ClearOutput();
        int status = t.Run(command);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("fallocate: Operation not supported\n"));
        });
    }

    [Test]
    public void FpunchWithAZeroLengthFailsWithEinval()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f");
        int status = t.Run("fpunch 0 0");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("fallocate: Invalid argument\n"));
        });
    }

    [Test]
    public void ReflinkPrintsTheLinkedLinesAndSharesTheData()
    {
        using var t = new IoTestSession(new RamfsOptions { CloneByCopy = true });
        t.Run("open -c /src", "pwrite -S 0x5a 0 8k", "open -c /dst");
        t.ClearOutput();
        int status = t.Run("reflink /src", "reflink /src 0 8k 4k");
        var lines = t.OutLines;
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(lines[0], Is.EqualTo("linked 0/0 bytes at offset 0"));
            Assert.That(lines[2], Is.EqualTo("linked 4096/4096 bytes at offset 8192"));
            Assert.That(RateLine().IsMatch(lines[3]), Is.True, lines[3]);
            Assert.That(t.Process.Stat("/dst").Size, Is.EqualTo(12288));
        });
    }

    [Test]
    public void ReflinkErrorsNameTheIoctlOrTheSource()
    {
        using var t = new IoTestSession();
        t.Run("open -c /src", "open -c /dst");
        int status = t.Run("reflink /src", "reflink /src 0 0 4k", "reflink /nope");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo(
                "XFS_IOC_CLONE: Operation not supported\nXFS_IOC_CLONE_RANGE: Operation not supported\n/nope: No such file or directory\n"));
            Assert.That(t.Process.OpenFileCount, Is.EqualTo(2));
        });
    }
}
