using DaxStack.Device.Errors;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Nbd;
using DaxStack.Driver.Pmem;
using DaxStack.Tests.Shared;
using Microsoft.Extensions.Logging;

namespace DaxStack.Driver.Tests.Block;

/// <summary>
/// What the I/O that needs room in an image fails with when the host refuses the room for a reason
/// other than a full file system: a quota is no room (ENOSPC, as BLK_STS_NOSPC), any other failure
/// (an I/O error of the disk under the image) is EIO, never ENOSPC; the host's own error goes to
/// the log, once for a burst of failures; what was written before stays, and the device works
/// again once the host gives room. The media stand in for an image file whose fallocate fails.
/// </summary>
public class HostRoomErrorTests
{
    private const int Page = 4096;

    /// <summary>Native memory that says it is an image file, whose reservations fail with <see cref="Refusal"/> when set.</summary>
    private sealed unsafe class RefusingMedia(long length) : IMedia
    {
        private readonly NativeMedia _inner = new(length);

        public int Refusal;     // 0: reservations succeed; else the errno they fail with

        public int Reservations;

        public long Length => _inner.Length;

        public byte* Pointer => _inner.Pointer;

        public bool IsPersistentStore => true;

        public void Flush() => _inner.Flush();

        public void Reserve(long offset, long length)
        {
            Interlocked.Increment(ref Reservations);
            int refusal = Volatile.Read(ref Refusal);
            if (refusal != 0)
                throw new IOException($"cannot allocate [{offset}, +{length}) of image 'refusing.img': errno {refusal}", refusal);
        }

        public void Dispose() => _inner.Dispose();
    }

    /// <summary>Keeps what is logged at Warning and above.</summary>
    private sealed class WarningLog : ILogger<PmemDriver>
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lock (Messages)
                    Messages.Add(formatter(state, exception));
            }
        }
    }

    private static (NvdimmBus Bus, RefusingMedia Media, PmemDevice Device) Attach(ILogger<PmemDriver>? log = null)
    {
        var media = new RefusingMedia(16 << 20);
        var bus = new NvdimmBus(TestDevice.Catalog());
        var region = bus.AddMemory(media);
        var device = new PmemDriver(new PmemOptions { QueueCount = 2 }, log).AttachPmem(region, region.Namespaces[0]);
        return (bus, media, device);
    }

    [TestCase(5, BlkStatus.IoError, Errno.EIO, TestName = "A host I/O error (EIO) fails every write path with EIO")]
    [TestCase(27, BlkStatus.IoError, Errno.EIO, TestName = "A host EFBIG fails every write path with EIO")]
    [TestCase(122, BlkStatus.NoSpace, Errno.ENOSPC, TestName = "A host quota (EDQUOT) fails every write path with ENOSPC")]
    [TestCase(28, BlkStatus.NoSpace, Errno.ENOSPC, TestName = "A full host file system (ENOSPC) fails every write path with ENOSPC")]
    public void EveryPathThatNeedsRoomFailsWithTheErrorTheHostFailureMeans(int hostErrno, BlkStatus status, Errno errno)
    {
        var (bus, media, device) = Attach();
        using var owner = bus;
        var before = TestDevice.Pattern(64 << 10, 1);
        Assert.That(device.Write(0, before), Is.EqualTo(BlkStatus.Ok), "room while the host gives it");

        media.Refusal = hostErrno;
        long elsewhere = 1 << 20;   // a chunk not reserved yet
        var data = TestDevice.Pattern(64 << 10, 2);
        Assert.Multiple(() =>
        {
            Assert.That(device.Write(elsewhere, data), Is.EqualTo(status), "a write bio");
            Assert.That(status.ToErrno(), Is.EqualTo(errno));
            Assert.That(device.WriteFrom(elsewhere, data.Length, new BufferStoreSource(data), BioFlags.None, out long written), Is.EqualTo(status), "WriteFrom");
            Assert.That(written, Is.Zero);
            Assert.That(device.SubmitBio(Bio.WriteZeroes(elsewhere, data.Length)), Is.EqualTo(status), "write-zeroes");
            Assert.That(device.SubmitBio(Bio.Discard(elsewhere, data.Length)), Is.EqualTo(status), "discard");
            Assert.That(device.ZeroPageRange(elsewhere / Page, 16), Is.EqualTo(errno), "ZeroPageRange");
            Assert.That(device.DirectAccess(elsewhere / Page, 16, DaxAccessMode.Access, out _), Is.EqualTo(errno), "DirectAccess");
            Assert.That(device.RecoveryWrite(elsewhere, data), Is.Zero, "RecoveryWrite writes nothing");
            // A chunk that has its room already needs no reservation, and a read never does here.
            Assert.That(device.Write(Page, data.AsSpan(0, Page)), Is.EqualTo(BlkStatus.Ok), "a chunk reserved before");
            Assert.That(device.Read(elsewhere, new byte[Page]), Is.EqualTo(BlkStatus.Ok), "a read");
        });

        media.Refusal = 0;
        Assert.That(device.Write(elsewhere, data), Is.EqualTo(BlkStatus.Ok), "room again");
        var back = new byte[data.Length];
        Assert.That(device.Read(elsewhere, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(data));
        Assert.That(device.Read(0, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back.AsSpan(0, Page).ToArray(), Is.EqualTo(before.AsSpan(0, Page).ToArray()), "what was written before is intact");
        Assert.That(back.AsSpan(Page, Page).ToArray(), Is.EqualTo(data.AsSpan(0, Page).ToArray()), "the write into the chunk reserved before");
        Assert.That(back.AsSpan(2 * Page).ToArray(), Is.EqualTo(before.AsSpan(2 * Page).ToArray()), "what was written before is intact");
    }

    [Test]
    public void DirectAccessHandsOutThePagesThatHaveRoomAndFailsWithTheHostsErrorOnlyWhenNoneHas()
    {
        var (bus, media, device) = Attach();
        using var owner = bus;
        // The first chunk (16 pages) gets its room; the host then fails with EIO.
        Assert.That(device.Write(0, new byte[Page]), Is.EqualTo(BlkStatus.Ok));
        media.Refusal = 5;
        Assert.That(device.DirectAccess(0, 32, DaxAccessMode.Access, out var extent), Is.EqualTo((Errno)0));
        Assert.That(extent.Pages, Is.EqualTo(16), "the pages whose chunk has room");
        Assert.That(device.DirectAccess(16, 16, DaxAccessMode.Access, out _), Is.EqualTo(Errno.EIO));
    }

    [Test]
    public void AHostFailureIsLoggedWithItsOwnErrorOnceForABurstOfFailedWrites()
    {
        var log = new WarningLog();
        var (bus, media, device) = Attach(log);
        using var owner = bus;
        media.Refusal = 5;
        var data = new byte[Page];
        for (int i = 0; i < 200; i++)
            Assert.That(device.Write((1 << 20) + (long)i * Page, data), Is.EqualTo(BlkStatus.IoError));
        Assert.That(media.Reservations, Is.EqualTo(200), "every write asked the host (a chunk that failed is not remembered as reserved)");
        Assert.That(log.Messages, Has.Count.EqualTo(1), string.Join("\n", log.Messages));
        Assert.That(log.Messages[0], Does.Contain("pmem0").And.Contain("refusing.img").And.Contain("errno 5").And.Contain("EIO"));
    }

    [Test]
    public void AnNbdWriteTheHostCannotFindRoomForForAnotherReasonGetsEioAndTheConnectionGoesOn()
    {
        var (bus, media, device) = Attach();
        using var owner = bus;
        var server = new NbdServer(new NbdServerOptions { Listen = "127.0.0.1:0" }, [new NbdExport(device.Name, device, "refusing", false)]);
        server.StartAsync().GetAwaiter().GetResult();
        try
        {
            using var client = Nbd.RawNbdClient.ConnectAndGo(server.LocalEndPoint!, device.Name);
            var data = TestDevice.Pattern(256 << 10, 3);
            Assert.That(client.Write(0, data), Is.Zero);
            media.Refusal = 5;
            Assert.Multiple(() =>
            {
                Assert.That(client.Write(1 << 20, data), Is.EqualTo(Nbd.RawNbdClient.EIO), "a large (in-place) write");
                Assert.That(client.Write(2 << 20, data.AsSpan(0, 4096).ToArray()), Is.EqualTo(Nbd.RawNbdClient.EIO), "a small write");
                Assert.That(client.Flush(), Is.Zero, "the connection goes on");
                Assert.That(client.ReadOk(0, data.Length), Is.EqualTo(data));
            });
        }
        finally
        {
            server.StopAsync().GetAwaiter().GetResult();
        }
    }
}
