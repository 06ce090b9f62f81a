using DaxStack.Tools.Cli;

namespace DaxStack.Device.Tests.Cli;

public class OutputErrorTests
{
    /// <summary>A stream every write to which fails, as a full disk (/dev/full) or a closed descriptor does.</summary>
    private sealed class FailingWriter(Exception failure) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => throw failure;

        public override void Write(string? value) => throw failure;

        public override void Write(char[] buffer, int index, int count) => throw failure;
    }

    private static FailingWriter Full() => new(new IOException("No space left on device"));

    [Test]
    public void AFullStandardOutputIsAWriteErrorNotAnInternalError()
    {
        var stderr = new StringWriter();
        int exit = DaxstackProgram.Run(["bench", "cost-model", "--dimms", "1"], Full(), stderr);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(stderr.ToString(), Is.EqualTo($"daxstack: write error on standard output: No space left on device{Environment.NewLine}"));
        });
    }

    [Test]
    public void AClosedStandardOutputIsAWriteErrorNotAnInternalError()
    {
        var stderr = new StringWriter();
        int exit = DaxstackProgram.Run(["--help"], new FailingWriter(new UnauthorizedAccessException("Access to the path is denied.")), stderr);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(stderr.ToString(), Does.StartWith("daxstack: write error on standard output: ").And.Not.Contain("internal error"));
        });
    }

    [TestCase("--help")]
    [TestCase("demo", "--bad")]
    public void WhenStandardErrorFailsTooTheResultIsAnExitStatusNotACrash(params string[] args)
    {
        int exit = -1;
        Assert.DoesNotThrow(() => exit = DaxstackProgram.Run(args, Full(), Full()));
        Assert.That(exit, Is.EqualTo(1));
    }
}
