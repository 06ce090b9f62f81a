using DaxStack.Device.Crash;
using DaxStack.Tools.Io;

namespace DaxStack.Fs.Tests.Cli;

public class IoSessionCommandTests
{
    [Test]
    public void NamespaceCommandsChangeTheTree()
    {
        using var t = new IoTestSession();
        int status = t.Run("mkdir /d", "mkdir -m 0700 /d/e", "open -c /d/f", "close", "link /d/f /g", "rename /d/f /d/h", "unlink /g", "rmdir /d/e", "ls /d");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(t.OutLines, Is.EqualTo(new[] { ".", "..", "h" }));
            Assert.That(t.Process.Stat("/d").IsDirectory, Is.True);
        });
    }

    [Test]
    public void LsLongShowsModeLinksOwnerAndSize()
    {
        using var t = new IoTestSession();
        t.Run("mkdir /d", "open -c -m 0640 /d/f", "pwrite 0 100");
        t.ClearOutput();
        int status = t.Run("ls -l /d");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(t.OutLines[2], Is.EqualTo("-rw-r-----   1     0     0          100 f"));
            Assert.That(t.OutLines[0], Does.StartWith("drwxr-xr-x   2 "));
        });
    }

    [TestCase("mkdir /d", "mkdir: File exists")]
    [TestCase("rmdir /nope", "rmdir: No such file or directory")]
    [TestCase("unlink /d", "unlink: Is a directory")]
    [TestCase("rename /nope /x", "rename: No such file or directory")]
    [TestCase("link /d /x", "link: Operation not permitted")]
    [TestCase("ls /nope", "ls: No such file or directory")]
    [TestCase("rmdir /", "rmdir: Device or resource busy")]
    public void NamespaceErrorsPrintCommandAndStrerror(string command, string error)
    {
        using var t = new IoTestSession();
        t.Run("mkdir /d");
        int status = t.Run(command);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo(error + "\n"));
        });
    }

    [Test]
    public void HelpListsEveryCommandWithALine()
    {
        using var t = new IoTestSession();
        int status = t.Run("help");
        var lines = t.OutLines;
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero);
            foreach (var ct in IoSession.Commands)
                Assert.That(lines.Count(l => l.StartsWith(ct.Name + " ", StringComparison.Ordinal) && l.Contains($"-- {ct.OneLine}", StringComparison.Ordinal)), Is.EqualTo(1), ct.Name);
            Assert.That(lines, Does.Contain("pwrite (or w) [-b bs] [-S seed] [-qwW] off len -- writes a number of bytes at a specified offset"));
            Assert.That(lines, Does.Contain("fsync (or s) -- calls fsync(2) to flush all in-core file state to disk"));
            Assert.That(lines[^1], Is.EqualTo("Use 'help commandname' for extended help."));
            Assert.That(IoSession.Commands.Select(c => c.Name), Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
            Assert.That(IoSession.Commands.Select(c => c.Name), Is.SupersetOf(new[]
            {
                "open", "close", "pwrite", "pread", "fsync", "fdatasync", "truncate", "falloc", "fpunch", "fzero", "fcollapse",
                "finsert", "funshare", "fiemap", "reflink", "lsattr", "chattr", "stat", "mkdir", "rmdir", "unlink", "rename",
                "link", "ls", "help", "crash",
            }));
        });
    }

    [Test]
    public void HelpForOneCommandPrintsItsUsage()
    {
        using var t = new IoTestSession();
        int ok = t.Run("help w");
        string output = t.Out;
        t.ClearOutput();
        int bad = t.Run("help frob");
        Assert.Multiple(() =>
        {
            Assert.That(ok, Is.Zero);
            Assert.That(output, Is.EqualTo("w [-b bs] [-S seed] [-qwW] off len -- writes a number of bytes at a specified offset\n"));
            Assert.That(bad, Is.EqualTo(1));
            Assert.That(t.Out, Is.EqualTo("command frob not found\n"));
        });
    }

    [Test]
    public void AnUnknownCommandIsReportedAndTheNextOnesStillRun()
    {
        using var t = new IoTestSession();
        int status = t.Run("frob", "mkdir /d");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("command \"frob\" not found\n"));
            Assert.That(t.Process.Stat("/d").IsDirectory, Is.True);
        });
    }

    [Test]
    public void CrashCallsThePowerFailureAndStopsTheRun()
    {
        using var t = new IoTestSession();
        int status = t.Run("open -c /f", "crash -p random:7", "pwrite 0 4k");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, t.Err);
            Assert.That(t.Crashes.Select(p => p.ToString()), Is.EqualTo(new[] { "random:7" }));
            Assert.That(t.Session.Crashed, Is.True);
            Assert.That(t.Out, Does.Not.Contain("wrote"));
            Assert.That(t.Process.Stat("/f").Size, Is.Zero);
            Assert.That(t.Session.Execute("mkdir /d"), Is.False);
        });
    }

    [Test]
    public void CrashDefaultsToStrict()
    {
        using var t = new IoTestSession();
        t.Run("crash");
        Assert.That(t.Crashes, Is.EqualTo(new[] { CrashPolicy.Strict }));
    }

    [Test]
    public void CrashWithABadPolicyPrintsUsageAndDoesNotCrash()
    {
        using var t = new IoTestSession();
        int status = t.Run("crash -p sometimes", "crash extra");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Crashes, Is.Empty);
            Assert.That(t.Session.Stopped, Is.False);
            Assert.That(t.OutLines, Is.EqualTo(new[]
            {
                "crash [-p strict|random:SEED|all] -- power failure of the emulated device now; no further command runs (the next run recovers)",
                "crash [-p strict|random:SEED|all] -- power failure of the emulated device now; no further command runs (the next run recovers)",
            }));
        });
    }

    [Test]
    public void CrashWithoutADeviceIsNotSupported()
    {
        using var t = new IoTestSession(withCrash: false);
        int status = t.Run("crash");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1));
            Assert.That(t.Err, Is.EqualTo("crash: Operation not supported\n"));
        });
    }

    [Test]
    public void QuitStopsTheRunWithoutFailing()
    {
        using var t = new IoTestSession();
        int status = t.Run("quit", "mkdir /d");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero);
            Assert.That(t.Session.Stopped, Is.True);
            Assert.That(t.Session.Crashed, Is.False);
            Assert.That(t.Out, Is.Empty);
        });
    }
}
