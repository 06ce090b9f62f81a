namespace DaxStack.Device.Tests.Cli;

/// <summary>Help and the version do not depend on the settings: a configuration that fails validation still lets --help and --version show them.</summary>
public class HelpWithBadConfigurationTests
{
    [TestCase("demo", "--help")]
    [TestCase("demo", "-h")]
    [TestCase("demo", "-?")]
    [TestCase("--help")]
    [TestCase("ndctl", "list", "--help")]
    [TestCase("repair", "--help")]
    public void HelpIsShownWhateverTheConfiguration(params string[] args)
    {
        var (exit, output, error) = CliRunner.Run(["--Nvdimm:Profile=bad", .. args]);
        var (_, goodOutput, _) = CliRunner.Run(args);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(error, Is.Empty);
            Assert.That(output, Does.Contain("Usage:"));
            Assert.That(output, Is.EqualTo(goodOutput), "the same help as with a valid configuration");
        });
    }

    [TestCase("--Nvdimm:Profile=bad")]
    [TestCase("--Nvdimm:InMemorySize=1000")]
    [TestCase("--Pmem:QueueCont=3")]
    public void VersionIsShownWhateverTheConfiguration(string setting)
    {
        var (exit, output, error) = CliRunner.Run(setting, "--version");
        var (goodExit, goodOutput, _) = CliRunner.Run("--version");
        Assert.Multiple(() =>
        {
            Assert.That(goodExit, Is.Zero);
            Assert.That(exit, Is.Zero, error);
            Assert.That(error, Is.Empty);
            Assert.That(output, Is.Not.Empty.And.EqualTo(goodOutput), "the same version as with a valid configuration");
        });
    }

    [Test]
    public void VersionIsShownWithABadConfigurationFromTheEnvironment()
    {
        var (exit, output, error) = Child(("DAXSTACK_Nvdimm__Profile", "bad"), "--version");
        var (_, goodOutput, _) = DaxstackProcess.Run([], ["--version"]);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(error, Is.Empty);
            Assert.That(output, Does.Match(@"^\d+\.\d+").And.EqualTo(goodOutput));
        });
    }

    [Test]
    public void HelpIsShownWithABadConfigurationFromTheEnvironment()
    {
        var (exit, output, error) = Child(("DAXSTACK_Nvdimm__Profile", "bad"), "demo", "--help");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(error, Is.Empty);
            Assert.That(output, Does.Contain("Usage:").And.Contain("demo"));
        });
    }

    [Test]
    public void ACommandWithABadConfigurationFromTheEnvironmentStillFails()
    {
        var (exit, output, error) = Child(("DAXSTACK_Nvdimm__Profile", "bad"), "demo");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("daxstack: configuration: Nvdimm:Profile: unknown cost profile 'bad'"));
            Assert.That(output, Is.Empty);
        });
    }

    [TestCase("demo")]
    [TestCase("demo", "--bogus")]
    [TestCase("ndctl", "list")]
    public void ACommandThatDoesNotAskForHelpStillReportsTheConfiguration(params string[] args)
    {
        var (exit, output, error) = CliRunner.Run(["--Nvdimm:Profile=bad", .. args]);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("daxstack: configuration: Nvdimm:Profile: unknown cost profile 'bad'"));
            Assert.That(output, Is.Empty);
        });
    }

    [Test]
    public void RepairStillExits2OnABadConfigurationWhenNotAskedForHelp()
    {
        var (exit, _, error) = CliRunner.Run("--Nvdimm:Profile=bad", "repair", "-n", "no-such.img");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(2));
            Assert.That(error, Does.StartWith("daxstack: configuration: "));
        });
    }

    // daxstack in a child process with one more environment variable.
    private static (int Exit, string Out, string Err) Child((string Name, string Value) env, params string[] args) =>
        DaxstackProcess.Run([], args, env);
}
