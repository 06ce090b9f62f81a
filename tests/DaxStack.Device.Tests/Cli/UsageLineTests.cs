using System.CommandLine;
using DaxStack.Tools.Cli;
using Microsoft.Extensions.DependencyInjection;

namespace DaxStack.Device.Tests.Cli;

/// <summary>
/// Every daxstack command's usage line shows its positional arguments as the command needs them:
/// none of them runs without its arguments (as mkfs.xfs, xfs_repair, xfs_db, xfs_io and ndctl
/// need theirs), so none is shown optional, <c>[&lt;X&gt;]</c>.
/// </summary>
public class UsageLineTests
{
    private static IEnumerable<string[]> CommandPaths()
    {
        using var services = new ServiceCollection().BuildServiceProvider();
        var root = DaxstackProgram.BuildRootCommand(new CliContext(services, TextWriter.Null, TextWriter.Null));
        var paths = new List<string[]>();
        void Walk(Command command, string[] path)
        {
            paths.Add(path);
            foreach (var sub in command.Subcommands)
                Walk(sub, [.. path, sub.Name]);
        }
        foreach (var sub in root.Subcommands)
            Walk(sub, [sub.Name]);
        return paths;
    }

    [TestCaseSource(nameof(CommandPaths))]
    public void NoCommandShowsAnArgumentAsOptional(string[] path)
    {
        var (exit, output, error) = CliRunner.Run([.. path, "--help"]);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        string usage = lines[lines.IndexOf("Usage:") + 1].Trim();
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(usage, Does.Contain(" " + string.Join(' ', path)));
            Assert.That(usage, Does.Not.Contain("[<"), $"'{string.Join(' ', path)}' cannot run without its arguments");
        });
    }

    [Test]
    public void AMissingNdctlNamespaceIsNamedInTheError()
    {
        var (exit, _, error) = CliRunner.Run("ndctl", "clear-errors", "--image", "pmem.img");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("ndctl clear-errors: missing argument NAMESPACE"));
        });
    }
}
