using DaxStack.Driver.Block;
using DaxStack.Driver.Nbd;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// Model-based tests of the transmission phase: random request sequences (reproducible from their
/// seed) against <see cref="NbdReferenceModel"/>, one or several requests in flight at a time, each
/// reply's error and each read's bytes compared with the model, and after a strict power failure
/// every byte the model knows to be durable compared with the device. A failure names the seed and
/// lists the requests up to the one that failed.
/// </summary>
public class NbdModelTests
{
    private const long Size = 4 << 20;

    // Small enough that reads beyond it are cheap to send, large enough for every data path
    // (reads past MaxBatchedRead are streamed).
    private const int MaxPayload = 2 << 20;

    private const int Requests = 80;

    [Test]
    public async Task RandomRequestsOnOneConnectionMatchTheModel([Values(512, 4096)] int blockSize, [Range(1, 4)] int seed)
    {
        await using var server = await StartAsync(blockSize, readOnly: false);
        var model = new NbdReferenceModel(Size, blockSize, MaxPayload, readOnly: false);
        var generator = new NbdRequestGenerator(seed, 0, Size, Size, blockSize, MaxPayload, invalid: true);
        var run = new NbdModelRun($"seed {seed}, {blockSize}-byte blocks", server.Go(), model);
        using (run)
        {
            run.RunRandom(generator, Requests);
            run.ReadAll(0, Size);
            // A few more requests in flight, and every other seed flushes last (the others rely on
            // FUA alone at the power failure). The connection then ends with NBD_CMD_DISC behind
            // them, with a write of 2^25 bytes or more, beyond the maximum payload (refused, then the server hangs
            // up), or stays open.
            var tail = new List<NbdModelRequest>();
            for (int i = 0; i < 3; i++)
                tail.Add(generator.Next());
            if (seed % 2 == 0)
                tail.Add(new NbdModelRequest(CmdFlush, 0, 0, 0));
            if (seed % 3 == 1)
                run.RunThenDisconnect(tail);
            else
                run.Run(tail);
            if (seed % 3 == 0)
                run.Oversized(generator.Oversized());
        }
        server.PowerFailure();
        run.CheckDurable(server.DeviceBytes(0, (int)Size), 0, Size, expectAllKnown: seed % 2 == 0);
    }

    [Test]
    public async Task RandomRequestsOnAReadOnlyExportChangeNothing([Values(512, 4096)] int blockSize, [Values(1)] int seed)
    {
        await using var server = await StartAsync(blockSize, readOnly: true);
        var initial = NbdTestServer.Pattern((int)Size, seed);
        Assert.That(server.Device.Write(0, initial), Is.EqualTo(BlkStatus.Ok));
        var model = new NbdReferenceModel(Size, blockSize, MaxPayload, readOnly: true, initial);
        var generator = new NbdRequestGenerator(seed, 0, Size, Size, blockSize, MaxPayload, invalid: true);
        using var run = new NbdModelRun($"read-only, seed {seed}, {blockSize}-byte blocks", server.Go(), model);
        run.RunRandom(generator, Requests / 2);
        run.ReadAll(0, Size);
    }

    [Test]
    public async Task TwoConnectionsWritingDisjointRangesAtOnceMatchTheModel([Values(512, 4096)] int blockSize, [Values(1)] int seed)
    {
        await using var server = await StartAsync(blockSize, readOnly: false);
        // The ranges meet inside a block, so both connections patch that block's bytes at once.
        const long Middle = Size / 2 + 100;
        (long Low, long High)[] ranges = [(0, Middle), (Middle, Size)];
        var runs = new NbdModelRun[2];
        for (int i = 0; i < 2; i++)
            runs[i] = new NbdModelRun($"connection {i}, seed {seed}, {blockSize}-byte blocks", server.Go(),
                new NbdReferenceModel(Size, blockSize, MaxPayload, readOnly: false));
        try
        {
            var work = Enumerable.Range(0, 2).Select(i => Task.Run(() =>
            {
                var generator = new NbdRequestGenerator(seed * 10 + i, ranges[i].Low, ranges[i].High, Size, blockSize, MaxPayload, invalid: false);
                runs[i].RunRandom(generator, Requests / 2);
            })).ToArray();
            await Task.WhenAll(work);
            for (int i = 0; i < 2; i++)
                runs[i].ReadAll(ranges[i].Low, ranges[i].High);
            // A flush on one connection covers the writes answered on both (multi-conn).
            runs[0].Run([new NbdModelRequest(CmdFlush, 0, 0, 0)]);
            runs[1].Model.Apply(new NbdModelRequest(CmdFlush, 0, 0, 0));
        }
        finally
        {
            foreach (var run in runs)
                run.Dispose();
        }
        server.PowerFailure();
        var afterCrash = server.DeviceBytes(0, (int)Size);
        for (int i = 0; i < 2; i++)
            runs[i].CheckDurable(afterCrash, ranges[i].Low, ranges[i].High, expectAllKnown: true);
    }

    private static Task<NbdTestServer> StartAsync(int blockSize, bool readOnly) =>
        NbdTestServer.StartAsync(Size, blockSize, readOnly, new NbdServerOptions { MaxPayload = MaxPayload });
}
