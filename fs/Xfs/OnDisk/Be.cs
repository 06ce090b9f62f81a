using System.Buffers.Binary;

namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>Big-endian field access at byte offsets, the byte order of every XFS on-disk field but the CRCs.</summary>
/// <remarks>Models the kernel's <c>be32_to_cpu</c> / <c>cpu_to_be32</c> family and <c>uuid_t</c> copies on XFS buffers.</remarks>
internal static class Be
{
    public static byte U8(ReadOnlySpan<byte> s, int offset) => s[offset];

    public static ushort U16(ReadOnlySpan<byte> s, int offset) => BinaryPrimitives.ReadUInt16BigEndian(s[offset..]);

    public static uint U32(ReadOnlySpan<byte> s, int offset) => BinaryPrimitives.ReadUInt32BigEndian(s[offset..]);

    public static ulong U64(ReadOnlySpan<byte> s, int offset) => BinaryPrimitives.ReadUInt64BigEndian(s[offset..]);

    public static void Put8(Span<byte> s, int offset, byte value) => s[offset] = value;

    public static void Put16(Span<byte> s, int offset, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(s[offset..], value);

    public static void Put32(Span<byte> s, int offset, uint value) => BinaryPrimitives.WriteUInt32BigEndian(s[offset..], value);

    public static void Put64(Span<byte> s, int offset, ulong value) => BinaryPrimitives.WriteUInt64BigEndian(s[offset..], value);

    /// <summary>A <c>uuid_t</c>: 16 bytes in the order <c>uuid_unparse</c> prints them.</summary>
    public static Guid Uuid(ReadOnlySpan<byte> s, int offset) => new(s.Slice(offset, 16), bigEndian: true);

    public static void PutUuid(Span<byte> s, int offset, Guid value)
    {
        if (!value.TryWriteBytes(s.Slice(offset, 16), bigEndian: true, out _))
            throw new ArgumentException("no room for a uuid", nameof(s));
    }

    /// <summary>Throws a clear error when a structure is handed a buffer shorter than it.</summary>
    public static void Need(ReadOnlySpan<byte> s, int length, string structure)
    {
        if (s.Length < length)
            throw new XfsCorruptionException(structure, $"truncated: {s.Length} bytes, need {length}");
    }

    public static void NeedRoom(Span<byte> s, int length, string structure)
    {
        if (s.Length < length)
            throw new ArgumentException($"{structure} needs {length} bytes, the buffer has {s.Length}", nameof(s));
    }
}
