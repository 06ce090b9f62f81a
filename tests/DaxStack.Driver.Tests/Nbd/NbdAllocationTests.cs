using System.Buffers.Binary;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// The data path allocates nothing per request once a connection is warm: payloads go from the
/// input pipe to the device and from the device to the output pipe's buffers.
/// </summary>
public class NbdAllocationTests
{
    [Test]
    public async Task SteadyStateRequestsAllocateNothingPerRequest()
    {
        await using var server = await NbdTestServer.StartAsync(4 << 20);
        using var client = server.Go();

        // Pre-encoded requests: an aligned FUA write, an unaligned write (read-modify-write), a large
        // aligned write (received straight into the device), a read and a flush, so the client's
        // own loop allocates nothing either.
        const int payload = 8192;
        var write = Request(CmdWrite, FlagFua, 1, 65536, payload, withPayload: true);
        var unaligned = Request(CmdWrite, FlagFua, 2, 100_000 + 7, 1000, withPayload: true);
        var read = Request(CmdRead, 0, 3, 65536, payload, withPayload: false);
        var large = Request(CmdWrite, FlagFua, 5, 1 << 20, 256 << 10, withPayload: true);
        var flush = Request(CmdFlush, 0, 4, 0, 0, withPayload: false);
        var reply = new byte[16];
        var data = new byte[payload];

        int failures = 0;
        void Round()
        {
            // Each round: a FUA write, an unaligned FUA write, a large FUA write, a flush and a read.
            failures += Exchange(client, write, reply, 1) + Exchange(client, unaligned, reply, 2) + Exchange(client, large, reply, 5)
                + Exchange(client, flush, reply, 4);
            failures += Exchange(client, read, reply, 3);
            client.ReceiveExactly(data);
        }

        for (int i = 0; i < 200; i++)
            Round();
        // The best of three measurements: the test runner's own threads allocate now and then
        // (reflection, result reporting), which no server change can cause three times over.
        const int rounds = 1000;
        long best = long.MaxValue;
        for (int attempt = 0; attempt < 3 && best >= 16; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            long clientBefore = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < rounds; i++)
                Round();
            // The client runs on this thread (its blocking receives with a timeout allocate a little);
            // everything else allocated meanwhile is the server's.
            long clientBytes = GC.GetAllocatedBytesForCurrentThread() - clientBefore;
            best = Math.Min(best, (GC.GetTotalAllocatedBytes(precise: true) - before - clientBytes) / (rounds * 5));
        }

        Assert.That(failures, Is.Zero, "every request succeeded");
        // A buffer per request would be thousands of bytes; an async state machine per request about a hundred.
        Assert.That(best, Is.LessThan(16), "bytes the server allocated per request");
    }

    private static byte[] Request(ushort type, ushort flags, ulong handle, ulong offset, int length, bool withPayload)
    {
        var bytes = new byte[28 + (withPayload ? length : 0)];
        WriteRequestHeader(bytes, type, flags, handle, offset, (uint)length);
        if (withPayload)
            new Random((int)handle).NextBytes(bytes.AsSpan(28));
        return bytes;
    }

    /// <summary>Sends one pre-encoded request and reads its reply header; 1 if it failed.</summary>
    private static int Exchange(RawNbdClient client, byte[] request, byte[] reply, ulong handle)
    {
        client.Send(request);
        client.ReceiveExactly(reply);
        bool ok = BinaryPrimitives.ReadUInt32BigEndian(reply) == SimpleReplyMagic
                  && BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(4)) == 0
                  && BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8)) == handle;
        return ok ? 0 : 1;
    }
}
