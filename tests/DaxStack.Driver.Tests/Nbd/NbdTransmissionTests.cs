using DaxStack.Device.Namespaces;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>Reads, writes, trims and write-zeroes over NBD, aligned or not, and the errors the protocol names.</summary>
public class NbdTransmissionTests
{
    private const int Size = 4 << 20;

    [Test]
    public async Task WrittenDataReadsBack()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        var data = NbdTestServer.Pattern(64 << 10, 1);
        Assert.That(client.Write(128 << 10, data), Is.Zero);
        Assert.Multiple(() =>
        {
            Assert.That(client.ReadOk(128 << 10, data.Length), Is.EqualTo(data));
            Assert.That(server.DeviceBytes(128 << 10, data.Length), Is.EqualTo(data), "the data reached the device");
        });
    }

    [TestCase(512, 1, 1)]
    [TestCase(512, 100, 1000)]
    [TestCase(512, 511, 2)]
    [TestCase(512, 0, 700)]
    [TestCase(512, 300, 5000)]
    [TestCase(4096, 4095, 2)]
    [TestCase(4096, 10, 4096)]
    [TestCase(4096, 1000, 9000)]
    [TestCase(4096, 4096, 100)]
    public async Task UnalignedWritesChangeOnlyTheirBytes(int logicalBlockSize, int offset, int length)
    {
        await using var server = await NbdTestServer.StartAsync(Size, logicalBlockSize);
        using var client = server.Go();
        var background = NbdTestServer.Pattern(4 * 4096, 2);
        Assert.That(client.Write(0, background), Is.Zero);
        var data = NbdTestServer.Pattern(length, 3);
        Assert.That(client.Write(offset, data), Is.Zero);

        var expected = (byte[])background.Clone();
        data.CopyTo(expected, offset);
        Assert.Multiple(() =>
        {
            Assert.That(client.ReadOk(0, expected.Length), Is.EqualTo(expected), "aligned read of the whole area");
            Assert.That(client.ReadOk(offset, length), Is.EqualTo(data), "unaligned read of the bytes written");
            Assert.That(client.ReadOk(offset + 1, 3), Is.EqualTo(expected.AsSpan(offset + 1, 3).ToArray()), "a few bytes inside");
        });
    }

    [Test]
    public async Task WriteLargerThanTheInputBufferIsAppliedAsItArrives()
    {
        // 1.3 MiB with unaligned ends: more than the connection holds unconsumed, so the payload is
        // applied in pieces, with a read-modify-write at each end.
        await using var server = await NbdTestServer.StartAsync(8 << 20);
        using var client = server.Go();
        var data = NbdTestServer.Pattern((1 << 20) + 300_000, 4);
        Assert.That(client.Write(777, data), Is.Zero);
        Assert.That(client.ReadOk(777, data.Length), Is.EqualTo(data));
    }

    [Test]
    public async Task TrimmedBlocksReadBackAsZeroes()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        Assert.That(client.Write(0, NbdTestServer.Pattern(64 << 10, 5)), Is.Zero);
        Assert.That(client.Trim(4096, 16384), Is.Zero);
        Assert.That(client.ReadOk(4096, 16384), Is.All.Zero);
    }

    [Test]
    public async Task UnalignedTrimDiscardsOnlyTheWholeBlocksInside()
    {
        await using var server = await NbdTestServer.StartAsync(Size, logicalBlockSize: 4096);
        using var client = server.Go();
        var data = NbdTestServer.Pattern(16384, 6);
        Assert.That(client.Write(0, data), Is.Zero);
        Assert.That(client.Trim(100, 3 * 4096), Is.Zero);
        var after = client.ReadOk(0, 16384);
        Assert.Multiple(() =>
        {
            Assert.That(after.AsSpan(0, 4096).ToArray(), Is.EqualTo(data.AsSpan(0, 4096).ToArray()), "the partial first block is kept");
            Assert.That(after.AsSpan(4096, 8192).ToArray(), Is.All.Zero, "whole blocks inside are discarded");
            Assert.That(after.AsSpan(12288).ToArray(), Is.EqualTo(data.AsSpan(12288).ToArray()), "the partial last block is kept");
        });
    }

    [TestCase(0, 65536, (ushort)0)]
    [TestCase(100, 5000, FlagNoHole)]
    [TestCase(4000, 200, FlagFua)]
    public async Task WriteZeroesZeroesExactlyItsRange(int offset, int length, ushort flags)
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        var data = NbdTestServer.Pattern(128 << 10, 7);
        Assert.That(client.Write(0, data), Is.Zero);
        Assert.That(client.WriteZeroes(offset, (uint)length, flags), Is.Zero);
        var expected = (byte[])data.Clone();
        Array.Clear(expected, offset, length);
        Assert.That(client.ReadOk(0, data.Length), Is.EqualTo(expected));
    }

    [Test]
    public async Task ReadOnlyExportRefusesChangesWithEpermAndKeepsServing()
    {
        await using var server = await NbdTestServer.StartAsync(Size, readOnly: true);
        using var client = server.Connect();
        var go = client.InfoOrGo(OptGo, "pmem0");
        Assert.That(go.Final.Type, Is.EqualTo(RepAck));
        Assert.That(System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(go.Info(InfoExport).AsSpan(8)) & TxReadOnly, Is.EqualTo(TxReadOnly));
        Assert.Multiple(() =>
        {
            Assert.That(client.Write(0, new byte[4096]), Is.EqualTo(EPERM), "write (its payload is consumed)");
            Assert.That(client.Write(10, new byte[10]), Is.EqualTo(EPERM), "unaligned write");
            Assert.That(client.Trim(0, 4096), Is.EqualTo(EPERM), "trim");
            Assert.That(client.WriteZeroes(0, 4096), Is.EqualTo(EPERM), "write-zeroes");
            Assert.That(client.Flush(), Is.Zero, "flush of nothing");
            Assert.That(client.ReadOk(0, 4096), Is.All.Zero, "reads still work");
        });
    }

    [Test]
    public async Task ImageOpenedReadOnlyIsExportedReadOnly()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-nbd-").FullName;
        try
        {
            string image = Path.Combine(dir, "pmem.img");
            File.WriteAllBytes(image, new byte[1 << 20]);
            using var bus = new NvdimmBus(new Device.Cost.CostProfileCatalog(new Device.Hosting.NvdimmOptions()));
            var region = bus.OpenImage(image, readOnly: true);
            var device = new Pmem.PmemDriver().AttachPmem(region, region.Namespaces[0]);
            var export = new Driver.Nbd.NbdExport("ro", device);
            Assert.That(export.ReadOnly, Is.True, "a device that refuses writes makes a read-only export");
            await using var server = new Driver.Nbd.NbdServer(new Driver.Nbd.NbdServerOptions { Listen = "127.0.0.1:0" }, [export]);
            await server.StartAsync();
            using var client = RawNbdClient.ConnectAndGo(server.LocalEndPoint!, "ro");
            Assert.That(client.Write(0, new byte[512]), Is.EqualTo(EPERM));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task RequestsBeyondTheEndFailAsTheProtocolSaysAndTheConnectionGoesOn()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        Assert.Multiple(() =>
        {
            Assert.That(client.Read(Size - 512, 1024).Error, Is.EqualTo(EINVAL), "read past the end");
            Assert.That(client.Read(Size + 4096L, 512).Error, Is.EqualTo(EINVAL), "read starting past the end");
            Assert.That(client.Write(Size - 100, new byte[200]), Is.EqualTo(ENOSPC), "write past the end");
            Assert.That(client.Trim(Size, 4096), Is.EqualTo(EINVAL), "trim past the end");
            Assert.That(client.WriteZeroes(Size - 512, 1024), Is.EqualTo(ENOSPC), "write-zeroes past the end");
            Assert.That(client.Command(CmdCache, 0, Size, 1), Is.EqualTo(EINVAL), "cache past the end");
            Assert.That(client.ReadOk(Size - 512, 512), Has.Length.EqualTo(512), "the last sector itself is readable");
        });
        // Offsets near 2^64 must not wrap around into range.
        Assert.That(client.ReadSimpleReply(client.SendRequest(CmdRead, 0, ulong.MaxValue - 100, 512)), Is.EqualTo(EINVAL));
        Assert.That(client.ReadSimpleReply(client.SendRequest(CmdWrite, 0, ulong.MaxValue - 100, 512, new byte[512])), Is.EqualTo(ENOSPC));
        Assert.That(client.WriteZeroes(long.MaxValue, 512), Is.EqualTo(ENOSPC));
        Assert.That(client.Flush(), Is.Zero, "still in step after the refused payload");
    }

    [Test]
    public async Task ReadLongerThanTheMaximumPayloadIsInvalid()
    {
        await using var server = await NbdTestServer.StartAsync(64 << 20);
        using var client = server.Go();
        Assert.That(client.Read(0, (32 << 20) + 512).Error, Is.EqualTo(EINVAL));
        Assert.That(client.ReadOk(0, 512), Has.Length.EqualTo(512), "the connection goes on");
    }

    [TestCase((ushort)8, (ushort)0, TestName = "UnknownCommandIsInvalid")]
    [TestCase(CmdBlockStatus, (ushort)0, TestName = "BlockStatusWithoutAMetaContextIsInvalid")]
    [TestCase(CmdRead, FlagDf, TestName = "ReadWithDontFragmentIsInvalidWithoutStructuredReplies")]
    [TestCase(CmdTrim, FlagNoHole, TestName = "NoHoleOutsideWriteZeroesIsInvalid")]
    [TestCase(CmdFlush, (ushort)0x40, TestName = "UnknownCommandFlagIsInvalid")]
    public async Task RequestTheServerDoesNotTakeIsInvalid(ushort type, ushort flags)
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        Assert.That(client.Command(type, flags, 0, 512), Is.EqualTo(EINVAL));
        Assert.That(client.Flush(), Is.Zero, "the connection goes on");
    }

    [Test]
    public async Task WriteWithAnUnknownFlagIsInvalidAndItsPayloadIsSkipped()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        var data = NbdTestServer.Pattern(8192, 8);
        Assert.That(client.ReadSimpleReply(client.SendRequest(CmdWrite, 0x80, 0, 8192, data)), Is.EqualTo(EINVAL));
        Assert.That(client.ReadOk(0, 8192), Is.All.Zero, "nothing was written, and the payload was not taken for requests");
    }

    [Test]
    public async Task ZeroLengthRequestsSucceedWithoutData()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        Assert.Multiple(() =>
        {
            Assert.That(client.Read(0, 0).Error, Is.Zero);
            Assert.That(client.Write(0, []), Is.Zero);
            Assert.That(client.Trim(0, 0), Is.Zero);
            Assert.That(client.WriteZeroes(0, 0), Is.Zero);
            Assert.That(client.ReadOk(0, 512), Has.Length.EqualTo(512), "the stream is still in step");
        });
    }

    [Test]
    public async Task PoisonedReadFailsWithEioBeforeAnyDataAndTheConnectionGoesOn()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        var data = NbdTestServer.Pattern(8192, 9);
        Assert.That(client.Write(0, data), Is.Zero);
        server.Region.InjectError(server.Device.Namespace, block: 4, count: 1); // bytes 2048-2559

        Assert.Multiple(() =>
        {
            Assert.That(client.Read(0, 8192).Error, Is.EqualTo(EIO), "a read covering the bad sector");
            Assert.That(client.Read(2100, 10).Error, Is.EqualTo(EIO), "an unaligned read inside it");
            Assert.That(client.ReadOk(4096, 4096), Is.EqualTo(data.AsSpan(4096).ToArray()), "other sectors read fine");
        });
        // Writing the whole sector clears the poison, as the driver's write path does.
        Assert.That(client.Write(2048, new byte[512]), Is.Zero);
        Assert.That(client.ReadOk(2048, 512), Is.All.Zero);
    }

    [Test]
    public async Task PartialWriteOntoAPoisonedSectorFailsWithEioAndTheStreamStaysInStep()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        server.Region.InjectError(server.Device.Namespace, block: 1, count: 1); // bytes 512-1023
        // The unaligned head needs the poisoned sector's old bytes, which cannot be read; the rest of
        // the 64 KiB payload must still be consumed.
        Assert.That(client.Write(700, NbdTestServer.Pattern(65536, 10)), Is.EqualTo(EIO));
        Assert.That(client.Flush(), Is.Zero);
        Assert.That(client.ReadOk(2048, 512), Is.All.Zero, "nothing after the failure was written");
    }

    [Test]
    public async Task PipelinedRequestsAreAnsweredInOrder()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        var handles = new List<(ulong Handle, int Index)>();
        for (int i = 0; i < 64; i++)
            handles.Add((client.SendRequest(CmdWrite, 0, (ulong)i * 512, 512, Enumerable.Repeat((byte)i, 512).ToArray()), i));
        handles.Add((client.SendRequest(CmdFlush, 0, 0, 0), -1));
        foreach (var (handle, _) in handles)
            Assert.That(client.ReadSimpleReply(handle), Is.Zero);
        var all = client.ReadOk(0, 64 * 512);
        Assert.That(Enumerable.Range(0, 64).All(i => all[i * 512] == i && all[i * 512 + 511] == i), Is.True);
    }

    [Test]
    public async Task DisconnectClosesTheConnection()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        client.Disconnect();
        Assert.That(client.ServerCloses(), Is.True);
    }
}
