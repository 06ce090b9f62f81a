using System.Buffers;
using DaxStack.Device.Crash;
using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Tests.Shared;

namespace DaxStack.Driver.Tests.Block;

/// <summary>The pmem block driver against the device's persistence model: what a flush, FUA and a crash mean for block I/O.</summary>
public class PmemBlockDeviceTests
{
    [Test]
    public void AWriteIsVisibleAtOnceButLostAtAStrictCrashWithoutAFlush()
    {
        using var t = TestDevice.InMemory();
        var data = TestDevice.Pattern(4096, 1);
        Assert.That(t.Device.Write(8192, data), Is.EqualTo(BlkStatus.Ok));

        var back = new byte[4096];
        Assert.That(t.Device.Read(8192, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(data), "a completed write is visible to reads");

        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Device.Read(8192, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.All.Zero, "non-temporal stores that were never fenced are lost");
    }

    [Test]
    public void AFlushMakesEveryCompletedWriteDurable()
    {
        using var t = TestDevice.InMemory();
        var a = TestDevice.Pattern(4096, 2);
        var b = TestDevice.Pattern(512, 3);
        t.Device.Write(0, a);
        t.Device.Write(1 << 20, b);
        Assert.That(t.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
        t.Bus.Space.Crash(CrashPolicy.Strict);

        Assert.That(t.Persisted(0, 4096), Is.EqualTo(a));
        Assert.That(t.Persisted(1 << 20, 512), Is.EqualTo(b));
    }

    [Test]
    public void AFuaWriteIsDurableWhenItCompletesAndALaterPlainWriteIsNot()
    {
        using var t = TestDevice.InMemory();
        var fua = TestDevice.Pattern(4096, 4);
        var plain = TestDevice.Pattern(4096, 5);
        Assert.That(t.Device.Write(0, fua, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));
        t.Device.Write(4096, plain);
        t.Bus.Space.Crash(CrashPolicy.Strict);

        Assert.That(t.Persisted(0, 4096), Is.EqualTo(fua));
        Assert.That(t.Persisted(4096, 4096), Is.All.Zero);
    }

    [Test]
    public void APreflushWritePersistsTheWritesBeforeIt()
    {
        using var t = TestDevice.InMemory();
        var first = TestDevice.Pattern(4096, 6);
        t.Device.Write(0, first);
        t.Device.Write(4096, TestDevice.Pattern(4096, 7), BioFlags.PreFlush);
        t.Bus.Space.Crash(CrashPolicy.Strict);

        Assert.That(t.Persisted(0, 4096), Is.EqualTo(first), "the preflush covered the earlier write");
        Assert.That(t.Persisted(4096, 4096), Is.All.Zero, "the preflush bio's own data was not fenced");
    }

    [Test]
    public void AFlushOnOneThreadPersistsWritesCompletedOnOthers()
    {
        using var t = TestDevice.InMemory(queues: 4);
        var blocks = Enumerable.Range(0, 8).Select(i => TestDevice.Pattern(4096, 100 + i)).ToArray();
        var writers = blocks.Select((data, i) => new Thread(() => t.Device.Write(i * 65536L, data))).ToArray();
        foreach (var w in writers)
            w.Start();
        foreach (var w in writers)
            w.Join();

        Assert.That(t.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
        t.Bus.Space.Crash(CrashPolicy.Strict);
        for (int i = 0; i < blocks.Length; i++)
            Assert.That(t.Persisted(i * 65536L, 4096), Is.EqualTo(blocks[i]), $"block written by thread {i}");
    }

    [Test]
    public void UnflushedWritesUnderARandomCrashKeepOrLoseWholeEightByteWords()
    {
        using var t = TestDevice.InMemory();
        var data = Enumerable.Repeat((byte)0xA5, 4096).ToArray();
        t.Device.Write(0, data);
        t.Bus.Space.Crash(CrashPolicy.Random(42));
        var after = t.Persisted(0, 4096);
        for (int w = 0; w < 4096; w += 8)
        {
            var word = after.AsSpan(w, 8).ToArray();
            Assert.That(word.All(x => x == 0) || word.All(x => x == 0xA5), Is.True, $"word at {w} tore: {Convert.ToHexString(word)}");
        }
    }

    [Test]
    public void DiscardAndWriteZeroesReadBackAsZeroesAndAfterAFlushSurviveACrash()
    {
        using var t = TestDevice.InMemory();
        t.Device.Write(0, TestDevice.Pattern(65536, 8), BioFlags.Fua);

        Assert.That(t.Device.Discard(4096, 8192), Is.EqualTo(BlkStatus.Ok));
        Assert.That(t.Device.WriteZeroes(32768, 4096), Is.EqualTo(BlkStatus.Ok));
        Assert.That(t.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
        var back = new byte[65536];
        t.Device.Read(0, back);
        Assert.That(back.AsSpan(4096, 8192).ToArray(), Is.All.Zero);
        Assert.That(back.AsSpan(32768, 4096).ToArray(), Is.All.Zero);
        Assert.That(back.AsSpan(0, 4096).ToArray(), Is.Not.All.Zero, "bytes before the discard are kept");

        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Persisted(4096, 8192), Is.All.Zero);
        Assert.That(t.Persisted(32768, 4096), Is.All.Zero);
        Assert.That(t.Persisted(12288, 4096), Is.EqualTo(TestDevice.Pattern(65536, 8).AsSpan(12288, 4096).ToArray()));
    }

    [Test]
    public void VectoredWritesAndReadsUseSegmentsOfAnyLength()
    {
        using var t = TestDevice.InMemory();
        var data = TestDevice.Pattern(8192, 9);
        var source = Segments(data, 100, 3000, 1, 5091);
        Assert.That(t.Device.Write(4096, source, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));

        var back = new byte[8192];
        var destination = Segments(back, 4000, 4192);
        Assert.That(t.Device.SubmitBio(Bio.Read(4096, destination)), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(data));
        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Persisted(4096, 8192), Is.EqualTo(data));
    }

    [Test]
    public void AVectoredFuaWriteEndingInAnEmptySegmentAtTheDeviceEndCompletesDurably()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        var data = TestDevice.Pattern(4096, 14);
        var source = Segments(data.Concat(Array.Empty<byte>()).ToArray(), 4096, 0);
        Assert.That(t.Device.Write((1 << 20) - 4096, source, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));
        var back = new byte[4096];
        Assert.That(t.Device.SubmitBio(Bio.Read((1 << 20) - 4096, Segments(back, 4096, 0))), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(data));
        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Persisted((1 << 20) - 4096, 4096), Is.EqualTo(data));
    }

    [TestCase(BioFlags.None)]
    [TestCase(BioFlags.Fua)]
    [TestCase(BioFlags.PreFlush | BioFlags.Fua)]
    public void AnEmptyWriteAtTheDeviceEndCompletes(BioFlags flags)
    {
        // bio_check_eod lets a bio of no sectors through wherever it starts; it touches no memory.
        using var t = TestDevice.InMemory(size: 1 << 20);
        var data = TestDevice.Pattern(4096, 17);
        t.Device.Write(0, data);
        Assert.That(t.Device.Write(1 << 20, ReadOnlySpan<byte>.Empty, flags), Is.EqualTo(BlkStatus.Ok));
        Assert.That(t.Device.Write((1 << 20) + 512, ReadOnlySpan<byte>.Empty, flags), Is.EqualTo(BlkStatus.Ok));
        if ((flags & BioFlags.PreFlush) != 0)
        {
            t.Bus.Space.Crash(CrashPolicy.Strict);
            Assert.That(t.Persisted(0, 4096), Is.EqualTo(data), "the empty bio's preflush still flushed");
        }
    }

    [TestCase(BioOp.Read, BioFlags.Fua)]
    [TestCase(BioOp.Read, BioFlags.PreFlush)]
    [TestCase(BioOp.Discard, BioFlags.Fua)]
    [TestCase(BioOp.Discard, BioFlags.PreFlush)]
    [TestCase(BioOp.WriteZeroes, BioFlags.Fua)]
    [TestCase(BioOp.WriteZeroes, BioFlags.PreFlush | BioFlags.Fua)]
    public void FuaOrPreflushOnAnythingButAWriteIsEioAndDoesNothing(BioOp op, BioFlags flags)
    {
        // submit_bio_noacct ends a bio whose flags ask for a flush or FUA unless it is a write.
        using var t = TestDevice.InMemory(size: 1 << 20);
        var data = TestDevice.Pattern(8192, 18);
        Assert.That(t.Device.Write(0, data), Is.EqualTo(BlkStatus.Ok));
        var buffer = TestDevice.Pattern(4096, 19);
        var bio = op == BioOp.Read
            ? new Bio { Op = op, Flags = flags, Sector = 0, Size = buffer.Length, Buffer = buffer }
            : new Bio { Op = op, Flags = flags, Sector = 0, Size = 4096 };
        var status = t.Device.SubmitBio(bio);
        Assert.That(status, Is.EqualTo(BlkStatus.IoError));
        Assert.That(status.ToErrno(), Is.EqualTo(Errno.EIO));
        Assert.That(buffer, Is.EqualTo(TestDevice.Pattern(4096, 19)), "a read fills nothing");
        var back = new byte[8192];
        Assert.That(t.Device.Read(0, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(data), "nothing was discarded or zeroed");
        var empty = new Bio { Op = op, Flags = flags, Sector = 0, Size = 0 };
        Assert.That(t.Device.SubmitBio(empty), Is.EqualTo(BlkStatus.IoError), "an empty bio with the flags too");
    }

    [TestCase(BioOp.Read)]
    [TestCase(BioOp.Write)]
    [TestCase(BioOp.Discard)]
    [TestCase(BioOp.WriteZeroes)]
    public void AnEmptyBioPastTheEndCompletesAndOneWithSectorsThereIsEio(BioOp op)
    {
        // bio_check_eod skips a bio of no sectors, and nothing after it refuses one for its length.
        using var t = TestDevice.InMemory(size: 1 << 20);
        const long end = (1 << 20) / Bio.SectorSize;
        foreach (long sector in new[] { end + 8, end * 64, 1L << 55 })
        {
            Assert.That(t.Device.SubmitBio(new Bio { Op = op, Sector = sector, Size = 0 }), Is.EqualTo(BlkStatus.Ok), $"empty at sector {sector}");
            var one = op is BioOp.Read or BioOp.Write
                ? new Bio { Op = op, Sector = sector, Size = 512, Buffer = new byte[512] }
                : new Bio { Op = op, Sector = sector, Size = 512 };
            Assert.That(t.Device.SubmitBio(one), Is.EqualTo(BlkStatus.IoError), $"one sector at sector {sector}");
        }
    }

    [Test]
    public void AnEmptyWriteFromOrReadToPastTheEndCompletes()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        Assert.That(t.Device.WriteFrom(2 << 20, 0, new BufferStoreSource([]), BioFlags.Fua, out long written), Is.EqualTo(BlkStatus.Ok));
        Assert.That(written, Is.Zero);
        Assert.That(t.Device.WriteFrom(2 << 20, 512, new BufferStoreSource(new byte[512]), BioFlags.None, out _), Is.EqualTo(BlkStatus.IoError));
        Assert.That(t.Device.ReadTo(2 << 20, 0, new BufferLoadSink(), out long read), Is.EqualTo(BlkStatus.Ok));
        Assert.That(read, Is.Zero);
        Assert.That(t.Device.ReadTo(2 << 20, 512, new BufferLoadSink(), out _), Is.EqualTo(BlkStatus.IoError));
    }

    [TestCase(100, 512, BlkStatus.Invalid, TestName = "AnOffsetThatIsNotAWholeSectorIsEinval")]
    [TestCase(512, 100, BlkStatus.Invalid, TestName = "ALengthThatIsNotAWholeBlockIsEinval")]
    [TestCase(16L << 20, 512, BlkStatus.IoError, TestName = "ARequestStartingAtTheEndIsEio")]
    [TestCase((16L << 20) - 512, 1024, BlkStatus.IoError, TestName = "ARequestRunningPastTheEndIsEio")]
    public void BadRequestsFailWithTheBlockLayersStatus(long offset, int length, BlkStatus expected)
    {
        using var t = TestDevice.InMemory();
        Assert.That(t.Device.Write(offset, new byte[length]), Is.EqualTo(expected));
        Assert.That(t.Device.Read(offset, new byte[length]), Is.EqualTo(expected));
        Assert.That(t.Device.Discard(offset, length), Is.EqualTo(expected));
        Assert.That(expected.ToErrno(), Is.EqualTo(expected == BlkStatus.Invalid ? Errno.EINVAL : Errno.EIO));
    }

    [TestCase(1L << 54, TestName = "ASectorWhoseByteOffsetIsTwoToTheSixtyThreeIsEioNotEinval")]
    [TestCase(1L << 55, TestName = "ASectorWhoseByteOffsetWrapsToZeroIsEioAndWritesNothing")]
    [TestCase((1L << 55) + 8, TestName = "ASectorWhoseByteOffsetWrapsIntoTheDeviceIsEioAndWritesNothing")]
    public void ASectorTooLargeForAByteOffsetIsPastTheEnd(long sector)
    {
        // bio_check_eod compares sectors: no start sector past the end may land inside the device.
        using var t = TestDevice.InMemory(size: 1 << 20);
        var data = TestDevice.Pattern(512, 15);
        Assert.That(t.Device.SubmitBio(new Bio { Op = BioOp.Write, Sector = sector, Size = 512, Buffer = data }), Is.EqualTo(BlkStatus.IoError));
        Assert.That(t.Device.SubmitBio(new Bio { Op = BioOp.Read, Sector = sector, Size = 512, Buffer = new byte[512] }), Is.EqualTo(BlkStatus.IoError));
        Assert.That(t.Device.SubmitBio(new Bio { Op = BioOp.WriteZeroes, Sector = sector, Size = 512 }), Is.EqualTo(BlkStatus.IoError));
        var back = new byte[8192];
        Assert.That(t.Device.Read(0, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.All.Zero, "nothing was written at the start of the device");
    }

    [TestCase(long.MinValue, TestName = "ANegativeSectorWhoseByteOffsetWrapsToZeroIsEinvalAndWritesNothing")]
    [TestCase(long.MinValue + 8, TestName = "ANegativeSectorWhoseByteOffsetWrapsIntoTheDeviceIsEinvalAndWritesNothing")]
    [TestCase(-(1L << 55), TestName = "ANegativeSectorOfMinusTwoToTheFiftyFiveIsEinvalAndWritesNothing")]
    [TestCase(-8L, TestName = "ANegativeSectorIsEinval")]
    public void ANegativeSectorIsEinvalAndTouchesNothing(long sector)
    {
        // Sector * 512 wraps for sectors below -2^54: long.MinValue * 512 is 0, the first sector.
        using var t = TestDevice.InMemory(size: 1 << 20);
        var data = TestDevice.Pattern(512, 15);
        Assert.That(t.Device.SubmitBio(new Bio { Op = BioOp.Write, Sector = sector, Size = 512, Buffer = data }), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(t.Device.SubmitBio(new Bio { Op = BioOp.WriteZeroes, Sector = sector, Size = 512 }), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(t.Device.SubmitBio(new Bio { Op = BioOp.Write, Sector = sector, Size = 0 }), Is.EqualTo(BlkStatus.Invalid));
        var read = TestDevice.Pattern(512, 16);
        Assert.That(t.Device.SubmitBio(new Bio { Op = BioOp.Read, Sector = sector, Size = 512, Buffer = read }), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(read, Is.EqualTo(TestDevice.Pattern(512, 16)), "a read fills nothing");
        var back = new byte[8192];
        Assert.That(t.Device.Read(0, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.All.Zero, "nothing was written at the start of the device");
    }

    [Test]
    public void AnOperationTheDriverDoesNotKnowIsNotSupportedAndLeavesTheDataAlone()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        var data = TestDevice.Pattern(4096, 16);
        t.Device.Write(0, data, BioFlags.Fua);
        var status = t.Device.SubmitBio(new Bio { Op = (BioOp)99, Sector = 0, Size = 4096 });
        Assert.That(status, Is.EqualTo(BlkStatus.NotSupported));
        Assert.That(status.ToErrno(), Is.EqualTo(Errno.EOPNOTSUPP));
        var back = new byte[4096];
        t.Device.Read(0, back);
        Assert.That(back, Is.EqualTo(data));
    }

    [Test]
    public void FourKibLogicalBlocksRejectRequestsAlignedOnlyToFiveHundredTwelve()
    {
        using var t = TestDevice.InMemory(logicalBlockSize: 4096);
        Assert.That(t.Device.Limits.LogicalBlockSize, Is.EqualTo(4096));
        Assert.That(t.Device.Write(512, new byte[4096]), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(t.Device.Write(4096, new byte[512]), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(t.Device.Write(4096, new byte[4096]), Is.EqualTo(BlkStatus.Ok));
    }

    [Test]
    public void ABioWhoseBufferDisagreesWithItsSizeIsRejected()
    {
        using var t = TestDevice.InMemory();
        var bio = new Bio { Op = BioOp.Write, Sector = 0, Size = 1024, Buffer = new byte[512] };
        Assert.That(t.Device.SubmitBio(bio), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(t.Device.SubmitBio(new Bio { Op = BioOp.Flush, Size = 512 }), Is.EqualTo(BlkStatus.Invalid));
    }

    [Test]
    public void HasBadBlocksSeesOnlyTheDisksOwnSectorsAndALongRangeStillFindsThePoison()
    {
        // badblocks_check on the disk's own list: a range running to the end (length 2^63 - 1)
        // must find the poison in it rather than wrap past 2^63; a range past the end must not
        // report the poison of the next namespace of the region.
        using var t = TestDevice.InMemory(size: 16 << 20);
        var first = t.Region.ReconfigureNamespace(t.Region.Namespaces[0].Name,
            new DaxStack.Device.Namespaces.NamespaceSpec { Mode = DaxStack.Device.Namespaces.NamespaceMode.Raw, Size = 4 << 20 }, force: true);
        var second = t.Region.CreateNamespace(new DaxStack.Device.Namespaces.NamespaceSpec { Mode = DaxStack.Device.Namespaces.NamespaceMode.Raw, Size = 4 << 20 });
        using var d0 = TestDevice.Attach(t.Bus, t.Region, first);
        using var d1 = TestDevice.Attach(t.Bus, t.Region, second);
        t.Region.InjectError(second, block: 0, count: 1);
        t.Region.InjectError(first, block: 16, count: 1);

        Assert.That(d1.Device.HasBadBlocks(0, 512), Is.True);
        Assert.That(d0.Device.HasBadBlocks(4096, long.MaxValue), Is.True, "the poison at sector 16 is in [4096, end)");
        Assert.That(d0.Device.HasBadBlocks(first.Size - 512, 1024), Is.False, "the sector past the end is the next namespace's");
        Assert.That(d0.Device.HasBadBlocks(16384, long.MaxValue), Is.False);
        Assert.That(d1.Device.HasBadBlocks(-512, 512), Is.False, "the sector before the start is the previous namespace's");
    }

    [Test]
    public void ADeviceWhoseNamespaceWasDestroyedFailsItsBiosAndLeavesTheNamespaceNowThereAlone()
    {
        // ndctl destroy-namespace -f disables the namespace first: the kernel deletes its disk, and
        // bios still submitted to it fail. The old device must not reach the namespace made since
        // over the same range.
        using var t = TestDevice.InMemory(size: 16 << 20);
        var raw = new DaxStack.Device.Namespaces.NamespaceSpec { Mode = DaxStack.Device.Namespaces.NamespaceMode.Raw, Size = 4 << 20 };
        var first = t.Region.ReconfigureNamespace(t.Region.Namespaces[0].Name, raw, force: true);
        var second = t.Region.CreateNamespace(raw);
        using var d0 = TestDevice.Attach(t.Bus, t.Region, first);
        using var d1 = TestDevice.Attach(t.Bus, t.Region, second);
        t.Region.CreateNamespace(raw);
        Assert.That(d0.Device.Write(0, TestDevice.Pattern(4096, 40)), Is.EqualTo(BlkStatus.Ok), "a change to another namespace leaves the device alone");

        t.Region.DestroyNamespace(first.Name, force: true);
        var successor = t.Region.CreateNamespace(raw);
        Assert.That(successor.Offset, Is.EqualTo(first.Offset));
        using var dn = TestDevice.Attach(t.Bus, t.Region, successor);
        var theirs = TestDevice.Pattern(8192, 41);
        Assert.That(dn.Device.Write(0, theirs, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));

        Assert.That(d0.Device.Write(0, TestDevice.Pattern(4096, 42)), Is.EqualTo(BlkStatus.IoError));
        Assert.That(d0.Device.WriteZeroes(4096, 4096), Is.EqualTo(BlkStatus.IoError));
        Assert.That(d0.Device.Discard(4096, 4096), Is.EqualTo(BlkStatus.IoError));
        Assert.That(d0.Device.Flush(), Is.EqualTo(BlkStatus.IoError));
        var stale = new byte[4096];
        Assert.That(d0.Device.Read(0, stale), Is.EqualTo(BlkStatus.IoError));
        Assert.That(stale, Is.All.Zero, "a read fills nothing");
        Assert.That(d0.Device.WriteFrom(0, 4096, new BufferStoreSource(new byte[4096]), BioFlags.None, out long written), Is.EqualTo(BlkStatus.IoError));
        Assert.That(written, Is.Zero);
        Assert.That(d0.Device.ReadTo(0, 4096, new BufferLoadSink(), out long read), Is.EqualTo(BlkStatus.IoError));
        Assert.That(read, Is.Zero);

        var back = new byte[8192];
        Assert.That(dn.Device.Read(0, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(theirs), "the namespace now at the range kept its data");
        Assert.That(d1.Device.Read(0, back), Is.EqualTo(BlkStatus.Ok), "the other namespaces' devices still work");
    }

    [Test]
    public void AReadOfAPoisonedSectorIsEioAndAWriteOverItClearsThePoison()
    {
        using var t = TestDevice.InMemory();
        var ns = t.Device.Namespace;
        t.Region.InjectError(ns, block: 10, count: 1);
        Assert.That(t.Device.HasBadBlocks(4096, 4096), Is.True);
        Assert.That(t.Device.HasBadBlocks(0, 4096), Is.False);
        Assert.That(t.Device.Read(4096, new byte[4096]), Is.EqualTo(BlkStatus.IoError));
        Assert.That(t.Device.Read(0, new byte[4096]), Is.EqualTo(BlkStatus.Ok), "sectors around the poison read fine");

        var data = TestDevice.Pattern(4096, 11);
        Assert.That(t.Device.Write(4096, data, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));
        Assert.That(t.Region.BadBlocks(ns), Is.Empty);
        var back = new byte[4096];
        Assert.That(t.Device.Read(4096, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(data));
    }

    [Test]
    public void PoisonClearedByAWriteStaysClearedInTheImagesBadblocksList()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-drv-").FullName;
        try
        {
            string image = Path.Combine(dir, "pmem.img");
            using (var f = File.Create(image))
                f.SetLength(8 << 20);
            using (var t = TestDevice.Image(image))
            {
                t.Region.InjectError(t.Device.Namespace, block: 16, count: 8);
                Assert.That(t.Device.Write(8192, new byte[2048], BioFlags.Fua), Is.EqualTo(BlkStatus.Ok), "clears blocks 16-19");
            }
            using (var t = TestDevice.Image(image))
            {
                var bad = t.Region.BadBlocks(t.Device.Namespace);
                Assert.That(bad.Select(b => (b.Block, b.Count)), Is.EqualTo(new[] { (20L, 4L) }));
                Assert.That(t.Device.Read(8192, new byte[2048]), Is.EqualTo(BlkStatus.Ok));
                Assert.That(t.Device.Read(10240, new byte[512]), Is.EqualTo(BlkStatus.IoError));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // pmem_do_write fails with EIO when pmem_clear_poison does: here, when the badblocks file
    // beside the image cannot record the clearing. The poison stays, in the list and the file,
    // so the sector's old bytes are never read back as good; once the file can be written again,
    // the write goes through.
    [Test]
    public void AWriteOverPoisonThatTheBadblocksFileCannotRecordFailsAndThePoisonStays()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-drv-").FullName;
        try
        {
            string image = Path.Combine(dir, "pmem.img");
            using (var f = File.Create(image))
                f.SetLength(8 << 20);
            using var t = TestDevice.Image(image);
            var ns = t.Device.Namespace;
            t.Region.InjectError(ns, block: 16, count: 1);
            string badblocks = image + ".badblocks";
            string recorded = File.ReadAllText(badblocks);
            // Unwritable from now on: a directory where the file was.
            File.Delete(badblocks);
            Directory.CreateDirectory(badblocks);
            var data = TestDevice.Pattern(4096, 3);
            Assert.Multiple(() =>
            {
                Assert.That(t.Device.Write(8192, data), Is.EqualTo(BlkStatus.IoError), "a write bio");
                Assert.That(t.Device.Write(8192, data, BioFlags.Fua), Is.EqualTo(BlkStatus.IoError), "with FUA");
                Assert.That(t.Device.SubmitBio(Bio.WriteZeroes(8192, 4096)), Is.EqualTo(BlkStatus.IoError), "write-zeroes");
                Assert.That(t.Device.WriteFrom(8192, 4096, new BufferStoreSource(data), BioFlags.None, out _), Is.EqualTo(BlkStatus.IoError), "in place");
                Assert.That(t.Device.ZeroPageRange(2, 1), Is.EqualTo(Errno.EIO), "ZeroPageRange");
                Assert.That(t.Device.RecoveryWrite(8192, data), Is.Zero, "RecoveryWrite");
                Assert.That(t.Region.BadBlocks(ns).Select(b => (b.Block, b.Count)), Is.EqualTo(new[] { (16L, 1L) }), "still poisoned");
                Assert.That(t.Device.Read(8192, new byte[4096]), Is.EqualTo(BlkStatus.IoError), "the old bytes are not read as good");
            });
            Directory.Delete(badblocks);
            File.WriteAllText(badblocks, recorded);
            Assert.That(t.Device.Write(8192, data), Is.EqualTo(BlkStatus.Ok));
            var back = new byte[4096];
            Assert.That(t.Device.Read(8192, back), Is.EqualTo(BlkStatus.Ok));
            Assert.That(back, Is.EqualTo(data));
            Assert.That(File.Exists(badblocks), Is.False, "the clearing is recorded");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void AReadOnlyDeviceRefusesWritesDiscardsAndZeroesButReads()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-drv-").FullName;
        try
        {
            string image = Path.Combine(dir, "pmem.img");
            File.WriteAllBytes(image, TestDevice.Pattern(4 << 20, 12));
            using var t = TestDevice.Image(image, readOnly: true);
            Assert.That(t.Device.Limits.ReadOnly, Is.True);
            Assert.That(t.Device.Write(0, new byte[512]), Is.EqualTo(BlkStatus.IoError));
            Assert.That(t.Device.Discard(0, 512), Is.EqualTo(BlkStatus.IoError));
            Assert.That(t.Device.WriteZeroes(0, 512), Is.EqualTo(BlkStatus.IoError));
            Assert.That(t.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
            var back = new byte[512];
            Assert.That(t.Device.Read(0, back), Is.EqualTo(BlkStatus.Ok));
            Assert.That(back, Is.EqualTo(TestDevice.Pattern(4 << 20, 12).AsSpan(0, 512).ToArray()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void BlockWritesAreChargedAsNonTemporalStoresAndTheFlushAsAFence()
    {
        // The driver must cost what the kernel's write_pmem + nvdimm_flush cost: the same
        // instruction sequence run directly on an identical fresh device models the same time.
        using var t = TestDevice.InMemory(queues: 1);
        var data = TestDevice.Pattern(4096, 13);
        t.Device.Write(0, data);
        t.Device.Flush();
        var queue = t.Device.QueueCpus.Single();

        using var reference = TestDevice.InMemory(queues: 1);
        var cpu = reference.Bus.Space.CreateCpu();
        cpu.NtStore(reference.Device.Namespace.PhysicalAddress, data);
        cpu.Sfence();

        Assert.That(queue.Stats.NtStores, Is.EqualTo(cpu.Stats.NtStores));
        Assert.That(queue.Stats.BytesNtStored, Is.EqualTo(4096));
        Assert.That(queue.Stats.Sfence, Is.EqualTo(1));
        Assert.That(queue.Clock.Nanoseconds, Is.EqualTo(cpu.Clock.Nanoseconds));
        Assert.That(queue.Clock.Nanoseconds, Is.GreaterThan(0));
    }

    [Test]
    public void ConcurrentWritersAndReadersSeeWholeBlocks()
    {
        using var t = TestDevice.InMemory(queues: 2);
        const int Blocks = 64;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var threads = Enumerable.Range(0, 4).Select(id => new Thread(() =>
        {
            var mine = new byte[4096];
            var back = new byte[4096];
            for (int round = 0; round < 200; round++)
            {
                int block = (id * 16) + (round % 16);
                Array.Fill(mine, (byte)(round + 1));
                if (t.Device.Write(block * 4096L, mine) != BlkStatus.Ok || t.Device.Read(block * 4096L, back) != BlkStatus.Ok)
                    errors.Enqueue($"thread {id} round {round}: I/O failed");
                else if (!back.AsSpan().SequenceEqual(mine))
                    errors.Enqueue($"thread {id} round {round}: read back other data");
            }
        })).ToArray();
        foreach (var th in threads)
            th.Start();
        foreach (var th in threads)
            th.Join();
        Assert.That(errors, Is.Empty);
        Assert.That(t.Device.Limits.Blocks, Is.GreaterThan(Blocks));
    }

    private static ReadOnlySequence<byte> Segments(byte[] buffer, params int[] lengths)
    {
        Assert.That(lengths.Sum(), Is.EqualTo(buffer.Length), "segment lengths must cover the buffer");
        Segment? first = null, last = null;
        int offset = 0;
        foreach (int n in lengths)
        {
            var s = new Segment(buffer.AsMemory(offset, n), offset);
            if (first == null)
                first = s;
            else
                last!.SetNext(s);
            last = s;
            offset += n;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(Memory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
