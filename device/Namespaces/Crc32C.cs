using System.Buffers.Binary;
using System.Numerics;

namespace DaxStack.Device.Namespaces;

/// <summary>CRC-32C (Castagnoli) of a byte span, with the usual all-ones seed and final inversion.</summary>
internal static class Crc32C
{
    /// <summary>The checksum of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        while (data.Length >= sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }
        foreach (byte b in data)
            crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }
}
