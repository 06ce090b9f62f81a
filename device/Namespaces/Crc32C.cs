using System.Buffers.Binary;
using System.Numerics;

namespace DaxStack.Device.Namespaces;

/// <summary>CRC-32C (Castagnoli) of a byte span, with the usual all-ones seed and final inversion.</summary>
internal static class Crc32C
{
    /// <summary>The checksum of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>
    /// The checksum of <paramref name="data"/> with the <paramref name="fieldLength"/> bytes at
    /// <paramref name="fieldOffset"/> read as zero (a header's own checksum field), without a copy.
    /// </summary>
    public static uint ComputeWithZeroedField(ReadOnlySpan<byte> data, int fieldOffset, int fieldLength)
    {
        Span<byte> zeros = stackalloc byte[fieldLength];
        zeros.Clear();
        uint crc = Append(~0u, data[..fieldOffset]);
        crc = Append(crc, zeros);
        return ~Append(crc, data[(fieldOffset + fieldLength)..]);
    }

    // The running (not inverted) CRC after 'data'.
    private static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
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
