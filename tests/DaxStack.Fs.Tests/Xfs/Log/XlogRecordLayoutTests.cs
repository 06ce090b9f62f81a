using System.Buffers.Binary;
using System.Numerics;
using DaxStack.Fs.Xfs.Log;

namespace DaxStack.Fs.Tests.Xfs.Log;

/// <summary>The bytes of a record are where xfs_log_format.h's struct xlog_rec_header and xlog_op_header put them.</summary>
public class XlogRecordLayoutTests
{
    private const uint Tid = 0x01020304;

    private static (byte[] Record, byte[] Payload) WriteOne(LogRig rig)
    {
        var writer = rig.Writer();
        var bytes = new byte[1200];
        new Random(11).NextBytes(bytes);
        Assert.That(writer.Append(new XlogTransaction(Tid, [new XlogRegion(0x1234, 4096, 100, bytes)]), out _), Is.EqualTo(XlogStatus.Ok));
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        // The operations as written before cycle stamping: START, the region, COMMIT.
        var payload = new byte[3 * 12 + 16 + bytes.Length];
        PutOp(payload, 0, 0, 0x01);
        PutOp(payload, 12, (uint)(16 + bytes.Length), 0x00);
        BinaryPrimitives.WriteUInt64BigEndian(payload.AsSpan(24), 0x1234);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(32), 4096);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(36), 100);
        bytes.CopyTo(payload, 40);
        PutOp(payload, 40 + bytes.Length, 0, 0x02);
        // mkfs's record takes blocks 0-1; ours is the header at 2 and three data sectors.
        return (rig.Raw(2, 4), payload);
    }

    private static void PutOp(byte[] b, int at, uint len, byte flags)
    {
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), Tid);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at + 4), len);
        b[at + 8] = 0x69; // XFS_TRANSACTION
        b[at + 9] = flags;
    }

    [Test]
    public void TheRecordHeaderFieldsSitAtTheirXlogRecHeaderOffsets()
    {
        using var rig = LogRig.Create(1024);
        var (rec, payload) = WriteOne(rig);
        uint U32(int o) => BinaryPrimitives.ReadUInt32BigEndian(rec.AsSpan(o));
        ulong U64(int o) => BinaryPrimitives.ReadUInt64BigEndian(rec.AsSpan(o));
        Assert.Multiple(() =>
        {
            Assert.That(U32(0), Is.EqualTo(0xFEEDBABEu), "h_magicno");
            Assert.That(U32(4), Is.EqualTo(1u), "h_cycle");
            Assert.That(U32(8), Is.EqualTo(2u), "h_version");
            Assert.That(U32(12), Is.EqualTo(3u * 512), "h_len: the operations rounded up to whole sectors");
            Assert.That(U64(16), Is.EqualTo((1UL << 32) | 2), "h_lsn");
            Assert.That(U64(24), Is.EqualTo(1UL << 32), "h_tail_lsn: mkfs's record");
            Assert.That(U32(36), Is.EqualTo(0u), "h_prev_block");
            Assert.That(U32(40), Is.EqualTo(3u), "h_num_logops");
            Assert.That(U32(300), Is.EqualTo(1u), "h_fmt XLOG_FMT_LINUX_LE");
            Assert.That(new Guid(rec.AsSpan(304, 16), bigEndian: true), Is.EqualTo(LogRig.Uuid), "h_fs_uuid");
            Assert.That(U32(320), Is.EqualTo(32768u), "h_size");
            Assert.That(payload, Has.Length.LessThanOrEqualTo(3 * 512));
        });
    }

    [Test]
    public void EveryDataSectorStartsWithTheCycleAndItsWordIsSavedInHCycleData()
    {
        using var rig = LogRig.Create(1024);
        var (rec, payload) = WriteOne(rig);
        var expected = new byte[3 * 512];
        payload.CopyTo(expected, 0);
        for (int i = 0; i < 3; i++)
        {
            int sector = 512 * (i + 1);
            Assert.That(BinaryPrimitives.ReadUInt32BigEndian(rec.AsSpan(sector)), Is.EqualTo(1u), $"cycle stamp of data sector {i}");
            Assert.That(BinaryPrimitives.ReadUInt32BigEndian(rec.AsSpan(44 + 4 * i)), Is.EqualTo(BinaryPrimitives.ReadUInt32BigEndian(expected.AsSpan(512 * i))), $"h_cycle_data[{i}]");
            Assert.That(rec.AsSpan(sector + 4, 508).ToArray(), Is.EqualTo(expected.AsSpan(512 * i + 4, 508).ToArray()), $"rest of data sector {i}");
        }
        Assert.That(rec.AsSpan(44 + 12, 4 * 61).ToArray(), Is.All.Zero, "unused h_cycle_data words");
    }

    [Test]
    public void HCrcIsCrc32cOfTheHeaderWithZeroCrcThenTheStampedDataStoredLittleEndian()
    {
        using var rig = LogRig.Create(1024);
        var (rec, _) = WriteOne(rig);
        var header = rec.AsSpan(0, 328).ToArray();
        header.AsSpan(32, 4).Clear();
        uint crc = 0xFFFFFFFF;
        foreach (byte b in header)
            crc = BitOperations.Crc32C(crc, b);
        foreach (byte b in rec.AsSpan(512, 3 * 512))
            crc = BitOperations.Crc32C(crc, b);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(rec.AsSpan(32)), Is.EqualTo(~crc));
    }
}
