using DaxStack.Tools.Io;

namespace DaxStack.Fs.Tests.Cli;

public class IoFormatTests
{
    [TestCase("4096", 4096L)]
    [TestCase("4k", 4096L)]
    [TestCase("4K", 4096L)]
    [TestCase("1m", 1048576L)]
    [TestCase("2g", 2147483648L)]
    [TestCase("3b", 3L * 4096)]
    [TestCase("2s", 1024L)]
    [TestCase("0x10", 16L)]
    [TestCase("010", 8L)]
    public void SizesAcceptXfsIoSuffixesAndCIntegers(string text, long expected) =>
        Assert.That(IoFormat.CvtNum(text, 4096, 512), Is.EqualTo(expected));

    [TestCase("")]
    [TestCase("k")]
    [TestCase("12q")]
    [TestCase("4kk")]
    [TestCase("99999999999999999999")]
    [TestCase("8e")]
    public void SizesThatAreNotNumbersAreNegative(string text) =>
        Assert.That(IoFormat.CvtNum(text, 4096, 512), Is.Negative);

    [TestCase(65536.0, "64 KiB")]
    [TestCase(1536.0, "2 KiB")]
    [TestCase(2560.0, "2 KiB")]
    [TestCase(512.0, "512.000000 bytes")]
    [TestCase(1048576.5, "1.000 MiB")]
    [TestCase(1610612736.25, "1.500 GiB")]
    [TestCase(4294967296.0, "4.000 GiB")]
    public void ByteCountsPrintAsCvtstrDoes(double value, string expected) =>
        Assert.That(IoFormat.CvtStr(value), Is.EqualTo(expected));

    [Test]
    public void TimesUnderASecondPrintInTenThousandths() =>
        Assert.That(IoFormat.TimeStr(TimeSpan.FromMicroseconds(1234)), Is.EqualTo("0.0012 sec"));

    [Test]
    public void TimesOfASecondOrMorePrintAsHoursMinutesSeconds() =>
        Assert.That(IoFormat.TimeStr(TimeSpan.FromSeconds(3725.5)), Is.EqualTo("1:02:05.50"));

    [Test]
    public void TheReportHasXfsIosTwoLines()
    {
        using var w = new StringWriter();
        IoFormat.ReportIoTimes(w, "wrote", TimeSpan.FromSeconds(0.5), 4096, 65536, 65536, 16);
        Assert.That(w.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), Is.EqualTo(
            "wrote 65536/65536 bytes at offset 4096\n64 KiB, 16 ops; 0.5000 sec (128 KiB/sec and 32.0000 ops/sec)\n"));
    }

    [Test]
    public void TheHexDumpShowsOffsetBytesAndLetters()
    {
        using var w = new StringWriter();
        byte[] data = "ab-XY012345678901\n"u8.ToArray();
        IoFormat.DumpBuffer(w, data, 0x20);
        Assert.That(w.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), Is.EqualTo(
            "00000020:  61 62 2d 58 59 30 31 32 33 34 35 36 37 38 39 30  ab.XY01234567890\n" +
            "00000030:  31 0a  1.\n"));
    }

    [Test]
    public void GetoptHandlesClustersAttachedArgumentsAndOperands()
    {
        var g = new IoGetopt(["pwrite", "-qS0x41", "-b", "1k", "0", "-x"], "b:qS:");
        Assert.Multiple(() =>
        {
            Assert.That(g.Next(), Is.EqualTo('q'));
            Assert.That(g.Next(), Is.EqualTo('S'));
            Assert.That(g.Optarg, Is.EqualTo("0x41"));
            Assert.That(g.Next(), Is.EqualTo('b'));
            Assert.That(g.Optarg, Is.EqualTo("1k"));
            Assert.That(g.Next(), Is.EqualTo(-1));
            Assert.That(g.Optind, Is.EqualTo(4));
        });
    }

    [Test]
    public void GetoptReportsUnknownOptionsAndMissingArguments()
    {
        var unknown = new IoGetopt(["pread", "-z"], "b:v");
        var missing = new IoGetopt(["pread", "-b"], "b:v");
        Assert.Multiple(() =>
        {
            Assert.That(unknown.Next(), Is.EqualTo('?'));
            Assert.That(missing.Next(), Is.EqualTo('?'));
        });
    }
}
