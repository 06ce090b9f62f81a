using DaxStack.Device.Cost;

namespace DaxStack.Device.Tests.Cost;

/// <summary>Media bytes written against bytes requested: the XPLine, the XPBuffer, and DRAM's 64-byte lines.</summary>
public class WriteAmplificationTests
{
    private static readonly byte[] Line = new byte[64];

    private static void NtPersist(DeviceFixture d, long offset)
    {
        d.Cpu.NtStore(d.Pa(offset), Line);
        d.Cpu.Sfence();
    }

    [Test]
    public void ScatteredSixtyFourByteWritesCostAWholeXPLineEachOnOptane()
    {
        using var d = new DeviceFixture(CostProfiles.OptaneAdr, size: 16 << 20);
        for (long i = 0; i < 1000; i++)
            NtPersist(d, i * (4096 + 256) % (16 << 20));
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.Cost.BytesRequested, Is.EqualTo(1000 * 64));
            Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(1000 * 256));
        });
    }

    [Test]
    public void ScatteredSixtyFourByteWritesCostSixtyFourBytesEachOnDram()
    {
        using var d = new DeviceFixture(CostProfiles.Dram, size: 16 << 20);
        for (long i = 0; i < 1000; i++)
            NtPersist(d, i * (4096 + 256) % (16 << 20));
        Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(d.Region.Cost.BytesRequested));
    }

    [Test]
    public void AFlushedStoreOfOneLineAlsoCostsAnXPLine()
    {
        using var d = new DeviceFixture(CostProfiles.OptaneAdr);
        d.Cpu.Store(d.Pa(4096), Line);
        d.Cpu.Clwb(d.Pa(4096));
        d.Cpu.Sfence();
        Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(256));
    }

    [Test]
    public void TheFourLinesOfAnXPLineWrittenSeparatelyMergeIntoOneMediaWrite()
    {
        using var d = new DeviceFixture(CostProfiles.OptaneAdr);
        for (int i = 0; i < 4; i++)
            NtPersist(d, 8192 + i * 64);
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.Cost.BytesRequested, Is.EqualTo(256));
            Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(256));
        });
    }

    [Test]
    public void AHotRegionThatFitsTheXPBufferIsCountedOnceHoweverOftenItIsRewritten()
    {
        using var d = new DeviceFixture(CostProfiles.OptaneAdr);
        for (int pass = 0; pass < 8; pass++)
            for (long off = 0; off < 16 << 10; off += 64)
                NtPersist(d, off);
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.Cost.BytesRequested, Is.EqualTo(8 * (16 << 10)));
            Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(16 << 10));
        });
    }

    [Test]
    public void ARegionLargerThanTheXPBufferIsWrittenToMediaAgainOnEveryPass()
    {
        using var d = new DeviceFixture(CostProfiles.OptaneAdr);
        for (int pass = 0; pass < 2; pass++)
            for (long off = 0; off < 32 << 10; off += 64)
                NtPersist(d, off);
        Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(2 * (32 << 10)));
    }

    [TestCase(1, 3 * (64 << 10))]
    [TestCase(6, 64 << 10)]
    public void EachInterleavedDimmHasItsOwnXPBuffer(int dimms, long expectedMediaBytes)
    {
        // A 64 KiB hot region rewritten three times: one DIMM's 16 KiB buffer cannot hold it, but
        // striped 4 KiB at a time over six DIMMs each holds at most 12 KiB of it.
        using var d = new DeviceFixture(CostProfiles.OptaneAdr with { Dimms = dimms });
        for (int pass = 0; pass < 3; pass++)
            for (long off = 0; off < 64 << 10; off += 64)
                NtPersist(d, off);
        Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(expectedMediaBytes));
    }
}
