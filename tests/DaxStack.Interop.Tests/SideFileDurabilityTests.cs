using System.Text.RegularExpressions;
using DaxStack.Interop.Tests.Servers;
using DaxStack.Interop.Tests.Tools;

namespace DaxStack.Interop.Tests;

/// <summary>
/// The namespace labels beside an image are replaced atomically (a temporary file, fsync, rename)
/// and the rename is made durable by an fsync of the directory, which the file's own fsync does
/// not cover: seen from outside, in the system calls strace records.
/// </summary>
public partial class SideFileDurabilityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Test]
    public void ReplacingTheLabelFileSyncsItsDirectoryAfterTheRename()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-labels-").FullName;
        try
        {
            string image = Path.Combine(dir, "pmem.img");
            string trace = Path.Combine(dir, "strace.txt");
            var run = ExternalTool.Strace.Run(Timeout, "-f", "-e", "trace=open,openat,fsync,rename,renameat,renameat2", "-o", trace,
                DaxstackServe.DotnetHost, DaxstackServe.DllPath, "ndctl", "create-namespace", "--image", image, "--size", "16M", "--mode", "fsdax");
            Assert.That(run.ExitCode, Is.Zero, run.ToString);
            Assert.That(File.Exists(image + ".labels"), Is.True, "the namespace was recorded in a label file");

            var lines = File.ReadAllLines(trace);
            int renamed = Array.FindLastIndex(lines, l => l.Contains("rename") && l.Contains($"\"{image}.labels\")") && l.TrimEnd().EndsWith("= 0", StringComparison.Ordinal));
            Assert.That(renamed, Is.GreaterThanOrEqualTo(0), "a rename onto the label file:\n" + string.Join('\n', lines.Where(l => l.Contains(dir))));
            string pid = lines[renamed].Split(' ', 2)[0];
            string? fd = null;
            bool synced = false;
            foreach (var line in lines.Skip(renamed + 1).Where(l => l.StartsWith(pid + " ", StringComparison.Ordinal)))
            {
                if (fd == null && OpenOf(dir).Match(line) is { Success: true } open)
                    fd = open.Groups["fd"].Value;
                else if (fd != null && line.Contains($"fsync({fd})") && line.TrimEnd().EndsWith("= 0", StringComparison.Ordinal))
                {
                    synced = true;
                    break;
                }
            }
            Assert.That(synced, Is.True, $"after the rename, an fsync of a descriptor open on '{dir}' (opened as {fd ?? "none"}):\n"
                + string.Join('\n', lines.Skip(renamed).Take(12)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // openat(AT_FDCWD, "DIR", O_RDONLY|...) = FD, or open("DIR", ...) = FD
    private static Regex OpenOf(string dir) =>
        new($@"\bopen(at)?\((AT_FDCWD, )?""{Regex.Escape(dir)}"", [^)]*\)\s*=\s*(?<fd>\d+)");
}
