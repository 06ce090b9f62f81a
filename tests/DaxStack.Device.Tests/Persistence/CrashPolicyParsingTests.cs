using DaxStack.Device.Crash;

namespace DaxStack.Device.Tests.Persistence;

public class CrashPolicyParsingTests
{
    [TestCase("strict", "strict")]
    [TestCase("ALL", "all")]
    [TestCase("random:12", "random:12")]
    public void ParsesTheCliSpellings(string text, string expected) =>
        Assert.That(CrashPolicy.Parse(text).ToString(), Is.EqualTo(expected));

    [TestCase("")]
    [TestCase("random:")]
    [TestCase("random:x")]
    [TestCase("lenient")]
    public void RejectsUnknownPoliciesNamingThem(string text)
    {
        var e = Assert.Throws<FormatException>(() => CrashPolicy.Parse(text));
        Assert.That(e!.Message, Does.Contain($"'{text}'"));
    }

    [TestCase("random:-1")]
    [TestCase("random:2147483648")]
    public void RejectsASeedOutOfRangeNamingIt(string text)
    {
        var e = Assert.Throws<FormatException>(() => CrashPolicy.Parse(text));
        Assert.That(e!.Message, Is.EqualTo($"crash policy '{text}': SEED must be 0 to 2147483647"));
    }

    [Test]
    public void RandomRefusesANegativeSeedWhichWouldRepeatItsAbsoluteValue() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CrashPolicy.Random(-1));

    [Test]
    public void RejectsNullAsAnArgumentError() =>
        Assert.Throws<ArgumentNullException>(() => CrashPolicy.Parse(null!));

    [Test]
    public void ExactlyRejectsANullStateBeforeAnyPowerFailure()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), new byte[] { 1, 2, 3 });
        Assert.Throws<ArgumentNullException>(() => CrashPolicy.Exactly(null!));
        Assert.That(d.Region.InFlightLineCount, Is.EqualTo(1), "nothing crashed");
    }
}
