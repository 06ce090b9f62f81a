using System.Buffers.Binary;
using System.Text;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>Fixed newstyle negotiation: the greeting, every supported option, and options the server declines.</summary>
public class NbdHandshakeTests
{
    private NbdTestServer _server = null!;

    [SetUp]
    public async Task SetUp() => _server = await NbdTestServer.StartAsync(size: 4 << 20, extraExports: ["second"]);

    [TearDown]
    public async Task TearDown() => await _server.DisposeAsync();

    [Test]
    public void GreetingOffersFixedNewstyleAndNoZeroes()
    {
        using var client = RawNbdClient.Open(_server.EndPoint);
        Assert.That(client.HandshakeFlags, Is.EqualTo(0b11), "NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES and nothing else");
    }

    [Test]
    public void GoDescribesTheExportAndEntersTransmission()
    {
        using var client = _server.Connect();
        var go = client.InfoOrGo(OptGo, "pmem0", InfoName, InfoDescription, InfoBlockSize);
        Assert.That(go.Final.Type, Is.EqualTo(RepAck), go.Final.Message);

        var export = go.Info(InfoExport)!;
        var sizes = go.Info(InfoBlockSize)!;
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(export.AsSpan(8));
        Assert.Multiple(() =>
        {
            Assert.That(BinaryPrimitives.ReadUInt64BigEndian(export), Is.EqualTo(4UL << 20), "export size");
            Assert.That(flags, Is.EqualTo(TxHasFlags | TxSendFlush | TxSendFua | TxSendTrim | TxSendWriteZeroes | TxCanMultiConn));
            Assert.That(Encoding.UTF8.GetString(go.Info(InfoName)!), Is.EqualTo("pmem0"));
            Assert.That(Encoding.UTF8.GetString(go.Info(InfoDescription)!), Is.EqualTo("the test device"));
            Assert.That(BinaryPrimitives.ReadUInt32BigEndian(sizes), Is.EqualTo(512), "minimum: the logical block size");
            Assert.That(BinaryPrimitives.ReadUInt32BigEndian(sizes.AsSpan(4)), Is.EqualTo(4096), "preferred");
            Assert.That(BinaryPrimitives.ReadUInt32BigEndian(sizes.AsSpan(8)), Is.EqualTo(32u << 20), "maximum: 32 MiB");
        });
        // Transmission has started: a request is answered.
        Assert.That(client.Flush(), Is.Zero);
    }

    [Test]
    public async Task BlockSizeMinimumIsTheDevicesLogicalBlockSize()
    {
        await using var server = await NbdTestServer.StartAsync(logicalBlockSize: 4096);
        using var client = server.Connect();
        var info = client.InfoOrGo(OptInfo, "pmem0", InfoBlockSize);
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(info.Info(InfoBlockSize)!), Is.EqualTo(4096));
    }

    [Test]
    public void InfoDescribesWithoutEnteringTransmissionSoGoMayFollow()
    {
        using var client = _server.Connect();
        var info = client.InfoOrGo(OptInfo, "second");
        Assert.Multiple(() =>
        {
            Assert.That(info.Final.Type, Is.EqualTo(RepAck));
            Assert.That(info.Info(InfoExport), Is.Not.Null, "NBD_INFO_EXPORT is always sent");
            Assert.That(info.Info(InfoName), Is.Null, "the name only when asked for");
        });
        var go = client.InfoOrGo(OptGo, "second");
        Assert.That(go.Final.Type, Is.EqualTo(RepAck));
        Assert.That(client.ReadOk(0, 512), Has.Length.EqualTo(512));
    }

    [Test]
    public void EmptyNameSelectsTheDefaultExport()
    {
        using var client = _server.Connect();
        var go = client.InfoOrGo(OptGo, "", InfoName);
        Assert.That(go.Final.Type, Is.EqualTo(RepAck));
        Assert.That(Encoding.UTF8.GetString(go.Info(InfoName)!), Is.EqualTo("pmem0"), "the canonical name of the default export");
    }

    [Test]
    public void ListNamesEveryExportWithItsDescription()
    {
        using var client = _server.Connect();
        var exports = client.List();
        Assert.That(exports, Is.EqualTo(new[] { ("pmem0", "the test device"), ("second", "another name for pmem0") }));
        // Negotiation goes on after a list.
        Assert.That(client.InfoOrGo(OptGo, "pmem0").Final.Type, Is.EqualTo(RepAck));
    }

    [Test]
    public void ListWithDataIsInvalidAndNegotiationContinues()
    {
        using var client = _server.Connect();
        client.SendOption(OptList, [1, 2, 3]);
        Assert.That(client.ReadOptionReply().Type, Is.EqualTo(RepErrInvalid));
        Assert.That(client.InfoOrGo(OptGo, "pmem0").Final.Type, Is.EqualTo(RepAck));
    }

    [TestCase(3u, false)]
    [TestCase(1u, true)]
    public void ExportNameEntersTransmissionWithZeroPaddingUnlessNoZeroes(uint clientFlags, bool expectZeroes)
    {
        using var client = _server.Connect(clientFlags);
        var (size, flags) = client.ExportName("second", expectZeroes);
        Assert.Multiple(() =>
        {
            Assert.That(size, Is.EqualTo(4UL << 20));
            Assert.That(flags & TxHasFlags, Is.EqualTo(TxHasFlags));
        });
        Assert.That(client.Write(0, new byte[512]), Is.Zero);
    }

    [Test]
    public void AbortIsAcknowledgedAndTheConnectionCloses()
    {
        using var client = _server.Connect();
        client.SendOption(OptAbort, []);
        var reply = client.ReadOptionReply();
        Assert.Multiple(() =>
        {
            Assert.That(reply.Option, Is.EqualTo(OptAbort));
            Assert.That(reply.Type, Is.EqualTo(RepAck));
            Assert.That(client.ServerCloses(), Is.True);
        });
    }

    [TestCase(OptStructuredReply)]
    [TestCase(OptStartTls)]
    [TestCase(4u)] // NBD_OPT_PEEK_EXPORT, withdrawn
    [TestCase(9u)] // NBD_OPT_LIST_META_CONTEXT
    [TestCase(10u)] // NBD_OPT_SET_META_CONTEXT
    [TestCase(0x1234_5678u)]
    public void UnsupportedOptionIsDeclinedAndTheHandshakeContinues(uint option)
    {
        using var client = _server.Connect();
        client.SendOption(option, Encoding.UTF8.GetBytes("some option data the server must skip"));
        var reply = client.ReadOptionReply();
        Assert.Multiple(() =>
        {
            Assert.That(reply.Option, Is.EqualTo(option));
            Assert.That(reply.Type, Is.EqualTo(RepErrUnsup));
        });
        var go = client.InfoOrGo(OptGo, "pmem0");
        Assert.That(go.Final.Type, Is.EqualTo(RepAck), "the connection still negotiates after the error");
        Assert.That(client.Write(0, new byte[512]), Is.Zero, "and simple replies are used");
    }

    [Test]
    public void UnknownOptionWithALargePayloadIsSkippedWithoutBeingHeld()
    {
        using var client = _server.Connect();
        // 8 MiB of option data: several times the connection's input limit, so the server must
        // consume it as it arrives rather than hold it.
        client.SendOption(0xdead, new byte[8 << 20]);
        Assert.That(client.ReadOptionReply().Type, Is.EqualTo(RepErrUnsup));
        Assert.That(client.InfoOrGo(OptGo, "pmem0").Final.Type, Is.EqualTo(RepAck));
    }

    [Test]
    public void GoWithOversizedDataIsRefusedAsTooBig()
    {
        using var client = _server.Connect();
        client.SendOption(OptGo, new byte[1 << 20]);
        Assert.That(client.ReadOptionReply().Type, Is.EqualTo(RepErrTooBig));
        Assert.That(client.InfoOrGo(OptGo, "pmem0").Final.Type, Is.EqualTo(RepAck));
    }

    [Test]
    public void UnknownExportIsReportedAndTheClientMayAskAgain()
    {
        using var client = _server.Connect();
        var go = client.InfoOrGo(OptGo, "no-such-export", InfoName);
        Assert.Multiple(() =>
        {
            Assert.That(go.Final.Type, Is.EqualTo(RepErrUnknown));
            Assert.That(go.Final.Message, Does.Contain("no-such-export"));
            Assert.That(go.Infos, Is.Empty, "no information about an export that does not exist");
        });
        Assert.That(client.InfoOrGo(OptGo, "pmem0").Final.Type, Is.EqualTo(RepAck));
    }

    [TestCase('x', 4096, RepErrUnknown, TestName = "UnknownExportWithTheLongestNameIsReportedWithinTheStringLimit")]
    [TestCase('\uFFFD', 1365, RepErrUnknown, TestName = "UnknownExportWithALongMultibyteNameIsReportedWithinTheStringLimit")]
    [TestCase('x', 5000, RepErrTooBig, TestName = "ExportNameLongerThanTheStringLimitIsTooBig")]
    public void ErrorForAnUnknownExportIsAProtocolString(char c, int count, uint expected)
    {
        // Error messages are strings: at most 4096 bytes of UTF-8, whatever name the client sent.
        using var client = _server.Connect();
        var go = client.InfoOrGo(OptGo, new string(c, count));
        Assert.Multiple(() =>
        {
            Assert.That(go.Final.Type, Is.EqualTo(expected));
            Assert.That(go.Final.Data, Has.Length.LessThanOrEqualTo(4096), "the error message is at most 4096 bytes");
        });
        Assert.That(client.InfoOrGo(OptGo, "pmem0").Final.Type, Is.EqualTo(RepAck));
    }

    [Test]
    public void ErrorForAnUnknownExportWhoseNameHasNulIsAProtocolStringWithoutNul()
    {
        // Strings of the protocol must not contain NUL; a client's name is quoted without it.
        using var client = _server.Connect();
        var go = client.InfoOrGo(OptGo, "a\0b\u0001c");
        Assert.Multiple(() =>
        {
            Assert.That(go.Final.Type, Is.EqualTo(RepErrUnknown));
            Assert.That(go.Final.Data, Does.Not.Contain((byte)0), "no NUL in the error message");
            Assert.That(Encoding.UTF8.GetString(go.Final.Data), Does.Contain("a\uFFFDb\uFFFDc"));
        });
        Assert.That(client.InfoOrGo(OptGo, "pmem0").Final.Type, Is.EqualTo(RepAck));
    }

    [Test]
    public void UnknownExportNameClosesTheConnectionSinceThatOptionCannotFail()
    {
        using var client = _server.Connect();
        client.SendOption(OptExportName, Encoding.UTF8.GetBytes("no-such-export"));
        Assert.That(client.ServerCloses(), Is.True);
    }

    [TestCase(new byte[] { 0, 0, 0, 9, (byte)'p', 0, 0 }, TestName = "GoWhoseNameLengthRunsPastTheDataIsInvalid")]
    [TestCase(new byte[] { 0, 0, 0, 0, 0, 2, 0, 1 }, TestName = "GoWhoseRequestCountDoesNotMatchIsInvalid")]
    [TestCase(new byte[] { 0, 0, 0 }, TestName = "GoShorterThanSixBytesIsInvalid")]
    public void MalformedGoIsInvalidAndNegotiationContinues(byte[] data)
    {
        using var client = _server.Connect();
        client.SendOption(OptGo, data);
        Assert.That(client.ReadOptionReply().Type, Is.EqualTo(RepErrInvalid));
        Assert.That(client.InfoOrGo(OptGo, "pmem0").Final.Type, Is.EqualTo(RepAck));
    }

    [Test]
    public void UnknownClientFlagsDropTheConnection()
    {
        using var client = _server.Connect(clientFlags: 1 | 0x100);
        Assert.That(client.ServerCloses(), Is.True);
    }

    [Test]
    public void OptionWithoutIHaveOptMagicDropsTheConnection()
    {
        using var client = _server.Connect();
        var header = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(header, 0x0102030405060708);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), OptGo);
        client.Send(header);
        Assert.That(client.ServerCloses(), Is.True);
    }
}
