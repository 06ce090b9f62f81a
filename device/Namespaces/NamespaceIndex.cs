using System.Buffers.Binary;
using System.Text;

namespace DaxStack.Device.Namespaces;

/// <summary>
/// The header of a label file: which image the labels belong to, how many labels follow, and
/// the checksum of the whole file. 512 bytes, little-endian:
/// <code>
///   0 sig[16]        "DAXSTACK-LABELS\0"
///  16 major u16, minor u16   format version (1.0)
///  20 nslot u32      number of 256-byte labels that follow
///  24 seq u64        generation, incremented on every write
///  32 image_size u64 size in bytes of the image the labels were written for
///  40 checksum u32   CRC-32C of the whole file with this field zero
///  44 flags u32      reserved, zero
///  48 profile[32]    cost profile of the region, UTF-8, NUL padded (empty: the configured default)
///  80 image_name[256] file name (no directory) of the image, UTF-8, NUL padded
/// 336 reserved[176]  zero
/// </code>
/// </summary>
/// <remarks>
/// In the spirit of the kernel's <c>struct nd_namespace_index</c> (signature, seq, nslot,
/// checksum) at the start of a DIMM's label storage area; the image name and size play the role
/// of the interleave-set cookie that ties labels to the region they describe.
/// </remarks>
public sealed record NamespaceIndex
{
    /// <summary>Size of the encoded header in bytes.</summary>
    public const int EncodedSize = 512;

    /// <summary>The signature at offset 0.</summary>
    public static ReadOnlySpan<byte> Signature => "DAXSTACK-LABELS\0"u8;

    /// <summary>Format major version written and accepted.</summary>
    public const ushort Major = 1;

    /// <summary>Format minor version written.</summary>
    public const ushort Minor = 0;

    /// <summary>Bytes reserved for the profile name, including the terminating NUL.</summary>
    public const int ProfileField = 32;

    /// <summary>Bytes reserved for the image name, including the terminating NUL.</summary>
    public const int ImageNameField = 256;

    /// <summary>Offset of the checksum field.</summary>
    public const int ChecksumOffset = 40;

    private const int ReservedStart = 336;

    /// <summary>Number of labels that follow the header.</summary>
    public required int LabelCount { get; init; }

    /// <summary>Generation: incremented on every write of the file.</summary>
    public required long Sequence { get; init; }

    /// <summary>Size in bytes of the image the labels were written for.</summary>
    public required long ImageSize { get; init; }

    /// <summary>File name (without directory) of the image the labels were written for.</summary>
    public required string ImageName { get; init; }

    /// <summary>Cost profile recorded for the region; empty means the configured default.</summary>
    public string Profile { get; init; } = "";

    /// <summary>Checksum as stored (filled in by the file writer).</summary>
    public uint Checksum { get; init; }

    /// <summary>
    /// Decodes a header. Throws <see cref="InvalidDataException"/> naming the problem when the
    /// bytes are not a header this version understands. Does not verify the checksum (that needs
    /// the whole file).
    /// </summary>
    public static NamespaceIndex ReadFrom(ReadOnlySpan<byte> source)
    {
        if (source.Length < EncodedSize)
            throw new InvalidDataException($"the header is {EncodedSize} bytes, only {source.Length} present");
        if (!source[..16].SequenceEqual(Signature))
            throw new InvalidDataException("bad signature (not a daxstack label file)");
        ushort major = BinaryPrimitives.ReadUInt16LittleEndian(source[16..]);
        ushort minor = BinaryPrimitives.ReadUInt16LittleEndian(source[18..]);
        if (major != Major)
            throw new InvalidDataException($"unsupported format version {major}.{minor} (this daxstack reads {Major}.x)");
        uint nslot = BinaryPrimitives.ReadUInt32LittleEndian(source[20..]);
        ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(source[24..]);
        ulong imageSize = BinaryPrimitives.ReadUInt64LittleEndian(source[32..]);
        uint checksum = BinaryPrimitives.ReadUInt32LittleEndian(source[ChecksumOffset..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(source[44..]);
        if (flags != 0)
            throw new InvalidDataException($"header flags 0x{flags:x} set (none are defined)");
        if (source[ReservedStart..EncodedSize].ContainsAnyExcept((byte)0))
            throw new InvalidDataException("reserved header bytes are not zero");
        if (nslot > int.MaxValue || seq > long.MaxValue || imageSize > long.MaxValue)
            throw new InvalidDataException("a header field is out of range");
        return new NamespaceIndex
        {
            LabelCount = (int)nslot,
            Sequence = (long)seq,
            ImageSize = (long)imageSize,
            Checksum = checksum,
            Profile = NamespaceLabel.ReadName(source.Slice(48, ProfileField)),
            ImageName = NamespaceLabel.ReadName(source.Slice(80, ImageNameField)),
        };
    }

    /// <summary>Encodes this header (with <see cref="Checksum"/> as is) into the first <see cref="EncodedSize"/> bytes of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        var d = destination[..EncodedSize];
        d.Clear();
        Signature.CopyTo(d);
        BinaryPrimitives.WriteUInt16LittleEndian(d[16..], Major);
        BinaryPrimitives.WriteUInt16LittleEndian(d[18..], Minor);
        BinaryPrimitives.WriteUInt32LittleEndian(d[20..], (uint)LabelCount);
        BinaryPrimitives.WriteUInt64LittleEndian(d[24..], (ulong)Sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(d[32..], (ulong)ImageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(d[ChecksumOffset..], Checksum);
        WriteField(d.Slice(48, ProfileField), Profile, "profile name");
        WriteField(d.Slice(80, ImageNameField), ImageName, "image name");
    }

    private static void WriteField(Span<byte> field, string value, string what)
    {
        if (Encoding.UTF8.GetByteCount(value) >= field.Length || value.Contains('\0'))
            throw new InvalidOperationException($"{what} '{value}' does not fit its {field.Length - 1}-byte field");
        Encoding.UTF8.GetBytes(value, field);
    }
}
