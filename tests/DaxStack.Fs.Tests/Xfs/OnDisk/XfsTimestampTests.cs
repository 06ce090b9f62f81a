using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.OnDisk;

public class XfsTimestampTests
{
    [Test]
    public void BigtimeCountsNanosecondsFromTheSmallest32BitTime()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new XfsTimestamp(0, 0).Encode(bigTime: true), Is.EqualTo(0x1dcd650000000000ul));
            Assert.That(XfsTimestamp.Min.Encode(bigTime: true), Is.EqualTo(0ul));
            // The mtime mkfs.xfs wrote for the golden root inode.
            Assert.That(XfsTimestamp.Decode(0x36ba27f3fe8d9b80, bigTime: true), Is.EqualTo(new XfsTimestamp(1796024704, 617520000)));
        });
    }

    [Test]
    public void LegacyTimestampsAreSecondsAndNanosecondsIn32BitsEach()
    {
        var t = new XfsTimestamp(-5, 7);
        Assert.Multiple(() =>
        {
            Assert.That(t.Encode(bigTime: false), Is.EqualTo(0xFFFFFFFB_00000007ul));
            Assert.That(XfsTimestamp.Decode(t.Encode(bigTime: false), bigTime: false), Is.EqualTo(t));
        });
    }

    [Test]
    public void ATimeBeyond2038NeedsBigtime()
    {
        var t = new XfsTimestamp(1L << 33, 0);
        Assert.Multiple(() =>
        {
            Assert.That(XfsTimestamp.Decode(t.Encode(bigTime: true), bigTime: true), Is.EqualTo(t));
            Assert.Throws<InvalidOperationException>(() => t.Encode(bigTime: false));
        });
    }

    [Test]
    public void FromAPointInTimeKeepsTheSubSecondPart()
    {
        var when = DateTimeOffset.FromUnixTimeMilliseconds(1_796_024_704_617);
        Assert.That(XfsTimestamp.From(when), Is.EqualTo(new XfsTimestamp(1_796_024_704, 617_000_000)));
    }
}
