using System.Buffers.Binary;
using System.Text;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.OnDisk;

public class XfsCrcTests
{
    [Test]
    public void Crc32cOfTheStandardCheckStringIsTheCastagnoliCheckValue()
    {
        // The CRC catalogue's check value for CRC-32C (iSCSI): init ~0, reflected, final ~.
        uint crc = ~XfsCrc.Update(XfsCrc.Seed, Encoding.ASCII.GetBytes("123456789"));
        Assert.That(crc, Is.EqualTo(0xE3069283u));
    }

    [Test]
    public void ComputeTreatsTheCrcFieldAsZeroWhateverItHolds()
    {
        var block = new byte[512];
        new Random(7).NextBytes(block);
        uint first = XfsCrc.Compute(block, 224);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(224), 0xDEADBEEF);
        Assert.That(XfsCrc.Compute(block, 224), Is.EqualTo(first));
    }

    [Test]
    public void StampStoresTheChecksumLittleEndianAtTheOffsetAndVerifies()
    {
        var block = new byte[4096];
        new Random(8).NextBytes(block);
        XfsCrc.Stamp(block, 52);
        Assert.Multiple(() =>
        {
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(52)), Is.EqualTo(XfsCrc.Compute(block, 52)));
            Assert.That(XfsCrc.Verify(block, 52), Is.True);
        });
        block[4000] ^= 1;
        Assert.That(XfsCrc.Verify(block, 52), Is.False);
    }

    [Test]
    public void TheChecksumMatchesWhatMkfsXfsStoredInItsSuperblock()
    {
        var sector = MkfsXfsGolden.PrimarySuperblock();
        Assert.Multiple(() =>
        {
            Assert.That(XfsCrc.Verify(sector, XfsFormat.SuperblockCrcOffset), Is.True);
            // xfs_db prints the stored bytes as 0x193a6fee.
            Assert.That(BinaryPrimitives.ReadUInt32BigEndian(sector.AsSpan(XfsFormat.SuperblockCrcOffset)), Is.EqualTo(0x193a6feeu));
        });
    }

    [Test]
    public void ACrcOffsetOutsideTheBlockIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => XfsCrc.Compute(new byte[16], 14));
    }
}
