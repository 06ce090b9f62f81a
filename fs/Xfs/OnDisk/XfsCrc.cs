using System.Buffers.Binary;
using System.Numerics;

namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The CRC32c (Castagnoli) checksum XFS keeps in every v5 metadata block: the reflected
/// CRC32c of the whole block with its CRC field taken as zero, started from 0xFFFFFFFF,
/// inverted at the end, and stored little-endian at the structure's CRC offset.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_start_cksum_safe</c> / <c>xfs_end_cksum</c> / <c>xfs_update_cksum</c> / <c>xfs_verify_cksum</c> (fs/xfs/libxfs/xfs_cksum.h).</remarks>
public static class XfsCrc
{
    /// <summary>The seed XFS starts every checksum from (<c>XFS_CRC_SEED</c>).</summary>
    public const uint Seed = 0xFFFFFFFF;

    /// <summary>
    /// The checksum XFS stores for <paramref name="block"/>, whose four bytes at
    /// <paramref name="crcOffset"/> are treated as zero whatever they hold.
    /// </summary>
    public static uint Compute(ReadOnlySpan<byte> block, int crcOffset)
    {
        if ((uint)crcOffset > (uint)(block.Length - sizeof(uint)))
            throw new ArgumentOutOfRangeException(nameof(crcOffset), crcOffset, $"CRC field outside a {block.Length}-byte block");
        uint crc = Update(Seed, block[..crcOffset]);
        crc = Update(crc, stackalloc byte[sizeof(uint)]);
        crc = Update(crc, block[(crcOffset + sizeof(uint))..]);
        return ~crc;
    }

    /// <summary>Computes the checksum of <paramref name="block"/> and stores it at <paramref name="crcOffset"/>.</summary>
    public static void Stamp(Span<byte> block, int crcOffset)
    {
        uint crc = Compute(block, crcOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(block.Slice(crcOffset, sizeof(uint)), crc);
    }

    /// <summary>The checksum stored at <paramref name="crcOffset"/> of <paramref name="block"/>.</summary>
    public static uint Stored(ReadOnlySpan<byte> block, int crcOffset) =>
        BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(crcOffset, sizeof(uint)));

    /// <summary>Whether the checksum stored in <paramref name="block"/> matches its contents.</summary>
    public static bool Verify(ReadOnlySpan<byte> block, int crcOffset) =>
        Stored(block, crcOffset) == Compute(block, crcOffset);

    /// <summary>
    /// Continues a reflected CRC32c over <paramref name="data"/> from <paramref name="crc"/>, with
    /// no inversion at either end (Linux's <c>crc32c()</c>; the callers above add XFS's).
    /// </summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        // BitOperations.Crc32C uses the SSE4.2 / ARMv8 CRC instructions when the CPU has them
        // and a table otherwise; eight bytes at a time keeps a 4 KiB block well under a microsecond.
        while (data.Length >= sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }
        foreach (byte b in data)
            crc = BitOperations.Crc32C(crc, b);
        return crc;
    }
}
