using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Cli;

public class IoFileCommandTests
{
    [Test]
    public void StatPrintsXfsIosFields()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "pwrite 0 6k");
        t.ClearOutput();
        int status = t.Run("stat");
        long ino = t.Process.Stat("/f").Ino;
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(t.OutLines, Is.EqualTo(new[]
            {
                "fd.path = \"/f\"",
                "fd.flags = non-sync,non-direct,read-write",
                $"stat.ino = {ino}",
                "stat.type = regular file",
                "stat.size = 6144",
                "stat.blocks = 16",
                "fsxattr.xflags = 0x0 [-----------------]",
                "fsxattr.projid = 0",
                "fsxattr.extsize = 0",
                "fsxattr.cowextsize = 0",
                "fsxattr.nextents = 1",
            }));
        });
    }

    [Test]
    public void StatShowsTheOpenFlagsAndVerboseFlagNames()
    {
        using var t = new IoTestSession();
        t.Run("open -c -s -a /f", "chattr +x");
        t.ClearOutput();
        t.Run("stat -v", "open /", "stat");
        var lines = t.OutLines;
        Assert.Multiple(() =>
        {
            Assert.That(lines[1], Is.EqualTo("fd.flags = sync,non-direct,read-write,append-only"));
            Assert.That(lines[6], Does.Match(@"^stat\.atime = \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$"));
            Assert.That(lines, Does.Contain("fsxattr.xflags = 0x8000 [dax]"));
            Assert.That(lines, Does.Contain("fd.flags = non-sync,non-direct,read-only"));
            Assert.That(lines, Does.Contain("stat.type = directory"));
        });
    }

    [Test]
    public void StatRawDumpsTheStatStructure()
    {
        using var t = new IoTestSession();
        t.Run("open -c -m 0640 /f");
        t.ClearOutput();
        t.Run("stat -r");
        var lines = t.OutLines;
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo("stat.blksize = 4096"));
            Assert.That(lines[1], Is.EqualTo("stat.nlink = 1"));
            Assert.That(lines[4], Is.EqualTo("stat.mode: 0100640"));
            Assert.That(lines, Has.Length.EqualTo(18));
        });
    }

    [Test]
    public void LsattrAndChattrUseXfsIosLetters()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "lsattr", "chattr +iA", "lsattr", "chattr -i", "lsattr -v", "lsattr -a");
        Assert.Multiple(() =>
        {
            Assert.That(t.Err, Is.Empty);
            Assert.That(t.OutLines, Is.EqualTo(new[]
            {
                "----------------- /f ",
                "--i--A----------- /f ",
                "[no-atime] /f ",
                "-----A-----------/rpiasAdtPneEfSxCX /f ",
            }));
        });
    }

    [TestCase("chattr +Q", "io: unknown flag\n")]
    [TestCase("chattr x", "io: bad chattr command, not +/-X\n")]
    [TestCase("chattr +p", "io: cannot set flags on /f: Operation not supported\n")]
    public void ChattrErrorsAreReported(string command, string error)
    {
        using var t = new IoTestSession();
        t.Run("open -c /f");
        int status = t.Run(command);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo(error));
        });
    }

    [Test]
    public void AnImmutableFileRefusesWrites()
    {
        using var t = new IoTestSession();
        int status = t.Run("open -c /f", "chattr +i", "pwrite 0 4k", "chattr -i", "pwrite 0 4k");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("pwrite: Operation not permitted\n"));
            Assert.That(t.OutLines[0], Is.EqualTo("wrote 4096/4096 bytes at offset 0"));
        });
    }

    [Test]
    public void FiemapPrintsExtentsAndHolesIn512ByteUnits()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "pwrite 0 4k", "pwrite 8k 4k", "truncate 20k");
        t.ClearOutput();
        int status = t.Run("fiemap", "fiemap -l");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(t.OutLines, Is.EqualTo(new[]
            {
                "/f:",
                "\t0: [0..7]: 0..7",
                "\t1: [8..15]: hole",
                "\t2: [16..23]: 0..7",
                "\t3: [24..39]: hole",
                "/f:",
                "\t0: [0..7]: 0..7 8 blocks",
                "\t1: [8..15]: hole 8 blocks",
                "\t2: [16..23]: 0..7 8 blocks",
                "\t3: [24..39]: hole 16 blocks",
            }));
        });
    }

    [Test]
    public void FiemapVerbosePrintsXfsIosTable()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "pwrite 0 4k", "pwrite 8k 4k", "falloc -k 12k 4k");
        t.ClearOutput();
        int status = t.Run("fiemap -v");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(t.OutLines, Is.EqualTo(new[]
            {
                "/f:",
                " EXT: FILE-OFFSET      BLOCK-RANGE      TOTAL FLAGS",
                "   0: [0..7]:          0..7                 8   0x2",
                "   1: [8..15]:         hole                 8",
                "   2: [16..23]:        0..7                 8   0x2",
                "   3: [24..31]:        0..7                 8 0x803",
            }));
        });
    }

    [Test]
    public void FiemapOfARangeStopsAtItsEnd()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "pwrite 0 16k");
        t.ClearOutput();
        t.Run("fiemap -n 1", "fiemap 0 4k");
        Assert.That(t.OutLines, Is.EqualTo(new[] { "/f:", "\t0: [0..31]: 0..31", "/f:", "\t0: [0..31]: 0..31" }));
    }

    [Test]
    public void FiemapOfADirectoryFailsWithEopnotsupp()
    {
        using var t = new IoTestSession();
        t.Run("mkdir /d", "open /d");
        int status = t.Run("fiemap");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("io: ioctl(FS_IOC_FIEMAP) [\"/d\"]: Operation not supported\n"));
        });
    }

    [Test]
    public void OpenOfAMissingFileFailsWithEnoent()
    {
        using var t = new IoTestSession();
        bool opened = t.Session.OpenFile("/nope", Tools.Io.IoOpenFlags.None);
        int status = t.Run("open /nope/x", "open -r /nope");
        Assert.Multiple(() =>
        {
            Assert.That(opened, Is.False);
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("/nope: No such file or directory\n/nope/x: No such file or directory\n/nope: No such file or directory\n"));
            Assert.That(t.Session.Files, Is.Empty);
        });
    }

    [Test]
    public void OpenWithTruncateEmptiesTheFile()
    {
        using var t = new IoTestSession();
        t.Run("open -c /f", "pwrite 0 4k", "open -t /f");
        Assert.That(t.Process.Stat("/f").Size, Is.Zero);
    }

    [Test]
    public void CloseListsTheFilesLeftWithTheCurrentOneInBrackets()
    {
        using var t = new IoTestSession();
        t.Run("open -c /a", "open -c -r /b");
        t.ClearOutput();
        int status = t.Run("close", "open /a", "close");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(t.OutLines, Is.EqualTo(new[]
            {
                "[000] /a             (foreign,non-sync,non-direct,read-write)",
                "[000] /a             (foreign,non-sync,non-direct,read-write)",
            }));
            Assert.That(t.Process.OpenFileCount, Is.EqualTo(1));
        });
    }

    [Test]
    public void OpenWithNoArgumentsShowsTheCurrentFile()
    {
        using var empty = new IoTestSession();
        int none = empty.Run("open");
        string noneErr = empty.Err;
        using var t = new IoTestSession();
        int status = t.Run("open -c /f", "open");
        Assert.Multiple(() =>
        {
            Assert.That(none, Is.EqualTo(1));
            Assert.That(noneErr, Is.EqualTo("no files are open, try 'help open'\n"));
            Assert.That(status, Is.Zero);
            Assert.That(t.OutLines[0], Is.EqualTo("fd.path = \"/f\""));
        });
    }

    [Test]
    public void AnUnprivilegedUserGetsPermissionErrors()
    {
        using var t = new IoTestSession(credentials: Credentials.User(1000, 1000));
        t.Process.Umask = 0;
        int status = t.Run("open -c /f", "mkdir /d");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("/f: Permission denied\nmkdir: Permission denied\n"));
        });
    }

    [Test]
    public void ChattrImmutableNeedsCapLinuxImmutable()
    {
        using var t = new IoTestSession(credentials: Credentials.Root.Drop(Capabilities.CAP_LINUX_IMMUTABLE));
        int status = t.Run("open -c /f", "chattr +i", "chattr +x");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("io: cannot set flags on /f: Operation not permitted\n"));
        });
    }
}
