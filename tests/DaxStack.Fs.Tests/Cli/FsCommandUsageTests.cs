using System.Text.RegularExpressions;

namespace DaxStack.Fs.Tests.Cli;

/// <summary>
/// The filesystem commands cannot run without their image: the usage line shows it as required
/// (<c>&lt;IMAGE&gt;</c>, not <c>[&lt;IMAGE&gt;]</c>), and a command line without it is a usage
/// error naming the argument, with the command's usage-error status (1; 2 for repair, whose
/// statuses are xfs_repair's).
/// </summary>
public class FsCommandUsageTests
{
    [TestCase("mkfs", "IMAGE")]
    [TestCase("repair", "IMAGE")]
    [TestCase("db", "IMAGE")]
    [TestCase("io", "IMAGE[:PATH]")]
    public void TheUsageLineShowsTheImageAsRequired(string command, string argument)
    {
        var (status, output, error) = CliRun.Run(command, "--help");
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        string usage = lines[lines.IndexOf("Usage:") + 1].Trim();
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, error);
            // The root's name is the process's (testhost here).
            Assert.That(usage, Does.EndWith($" {command} <{argument}> [options]"));
            Assert.That(Regex.IsMatch(usage, @"\[<"), Is.False, $"usage '{usage}' shows no argument as optional");
        });
    }

    // Everything but the image is given, so that only the image is missing.
    [TestCase(1, "mkfs", "-f")]
    [TestCase(2, "repair", "-n")]
    [TestCase(1, "db", "-c", "sb 0")]
    [TestCase(1, "io", "-c", "help")]
    public void WithoutTheImageTheCommandIsAUsageErrorNamingIt(int expectedStatus, string command, params string[] options)
    {
        string argument = command == "io" ? "IMAGE[:PATH]" : "IMAGE";
        var (status, output, error) = CliRun.Run([command, .. options]);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(expectedStatus));
            Assert.That(output, Is.Empty);
            Assert.That(error.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0),
                Is.EqualTo(new[] { $"{command}: missing argument {argument}", $"Try 'daxstack {command} --help'." }));
        });
    }

    [Test]
    public void AnyUsageErrorOfRepairExitsTwoAsItsDescriptionSays()
    {
        var (status, output, error) = CliRun.Run("repair", "-n", "--no-such-option", "fs.img");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(2), "could not check: not 1, which says the filesystem has problems");
            Assert.That(output, Is.Empty);
            Assert.That(error, Does.StartWith("repair: ").And.Contain("Try 'daxstack repair --help'."));
        });
    }
}
