using DaxStack.Tools.Commands;

namespace DaxStack.Device.Tests.Namespaces;

public class NdctlSizesTests
{
    [TestCase("4096", 4096L)]
    [TestCase("0x1000", 4096L)]
    [TestCase("4k", 4096L)]
    [TestCase("2M", 2L << 20)]
    [TestCase("2MiB", 2L << 20)]
    [TestCase("2MB", 2L << 20)]
    [TestCase("1G", 1L << 30)]
    [TestCase("3T", 3L << 40)]
    public void SizesAcceptBinarySuffixes(string text, long expected)
    {
        Assert.That(NdctlSizes.TryParse(text, out long bytes), Is.True);
        Assert.That(bytes, Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("M")]
    [TestCase("-1")]
    [TestCase("1.5G")]
    [TestCase("1X")]
    [TestCase("9999999T")]
    public void MalformedOrOverflowingSizesAreRejected(string text) =>
        Assert.That(NdctlSizes.TryParse(text, out _), Is.False);

    [TestCase(4096L, "4096")]
    [TestCase(64L << 20, "64.00 MiB (67.11 MB)")]
    [TestCase(4L << 30, "4.00 GiB (4.29 GB)")]
    [TestCase((2L << 30) - (1L << 20), "2047.00 MiB (2146.44 MB)")]
    public void HumanSizesFollowNdctl(long bytes, string expected) =>
        Assert.That(NdctlSizes.Human(bytes), Is.EqualTo(expected));
}
