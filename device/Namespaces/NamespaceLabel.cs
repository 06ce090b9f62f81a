using System.Buffers.Binary;
using System.Text;

namespace DaxStack.Device.Namespaces;

/// <summary>
/// One namespace label: the on-disk record in a label file that describes one namespace of a
/// region. 256 bytes, little-endian:
/// <code>
///   0 uuid[16]     namespace uuid, RFC 4122 byte order
///  16 name[64]     optional friendly name, UTF-8, NUL padded (at most 63 bytes)
///  80 flags  u32   reserved, zero
///  84 index  u32   N of namespaceR.N
///  88 dpa    u64   offset of the namespace in the region, bytes
///  96 rawsize u64  size, bytes
/// 104 align  u64   alignment of offset and size, bytes
/// 112 lbasize u32  logical sector size (0 for devdax)
/// 116 mode   u8    <see cref="NamespaceMode"/>
/// 117 map    u8    <see cref="MemmapLocation"/>
/// 118 reserved[138] zero
/// </code>
/// The file's checksum covers every label, so a label has none of its own.
/// </summary>
/// <remarks>
/// In the spirit of the UEFI namespace label the kernel reads from a DIMM's label storage area
/// (<c>struct nd_namespace_label</c>: uuid, name, dpa, rawsize, lbasize), with the mode, alignment
/// and memmap location that the kernel keeps in the pfn/dax info block on the media stored here
/// instead, since nothing is ever written into the image for metadata.
/// </remarks>
public sealed record NamespaceLabel
{
    /// <summary>Size of an encoded label in bytes.</summary>
    public const int EncodedSize = 256;

    /// <summary>Bytes reserved for the name, including the terminating NUL.</summary>
    public const int NameField = 64;

    private const int ReservedStart = 118;

    /// <summary>The namespace uuid (never empty in a label).</summary>
    public required Guid Uuid { get; init; }

    /// <summary>The optional friendly name (ndctl's <c>--name</c>); empty when none.</summary>
    public string Name { get; init; } = "";

    /// <summary>N of namespaceR.N.</summary>
    public required int Index { get; init; }

    /// <summary>Offset of the namespace in its region, bytes.</summary>
    public required long Offset { get; init; }

    /// <summary>Size, bytes.</summary>
    public required long Size { get; init; }

    /// <summary>Alignment of <see cref="Offset"/> and <see cref="Size"/>, bytes (4096 for raw and sector).</summary>
    public required long Align { get; init; }

    /// <summary>Logical sector size in bytes; 0 for devdax.</summary>
    public required int SectorSize { get; init; }

    /// <summary>The mode.</summary>
    public required NamespaceMode Mode { get; init; }

    /// <summary>Where page metadata lives (<see cref="MemmapLocation.None"/> for raw and sector).</summary>
    public MemmapLocation Map { get; init; }

    /// <summary>One past the last byte, as a region offset.</summary>
    public long End => Offset + Size;

    /// <summary>
    /// Decodes a label. Throws <see cref="InvalidDataException"/> naming the field when the
    /// bytes cannot be a label (reserved bytes set, unknown mode, values out of range, bad UTF-8);
    /// whether the label fits its region is checked by the caller.
    /// </summary>
    public static NamespaceLabel ReadFrom(ReadOnlySpan<byte> source)
    {
        if (source.Length < EncodedSize)
            throw new InvalidDataException($"a label is {EncodedSize} bytes, only {source.Length} present");
        var uuid = new Guid(source[..16], bigEndian: true);
        string name = ReadName(source.Slice(16, NameField));
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(source[80..]);
        uint index = BinaryPrimitives.ReadUInt32LittleEndian(source[84..]);
        ulong dpa = BinaryPrimitives.ReadUInt64LittleEndian(source[88..]);
        ulong rawsize = BinaryPrimitives.ReadUInt64LittleEndian(source[96..]);
        ulong align = BinaryPrimitives.ReadUInt64LittleEndian(source[104..]);
        uint lbasize = BinaryPrimitives.ReadUInt32LittleEndian(source[112..]);
        byte mode = source[116];
        byte map = source[117];
        if (flags != 0)
            throw new InvalidDataException($"flags 0x{flags:x} set (none are defined)");
        if (source[ReservedStart..EncodedSize].ContainsAnyExcept((byte)0))
            throw new InvalidDataException("reserved bytes are not zero");
        if (!Enum.IsDefined((NamespaceMode)mode))
            throw new InvalidDataException($"unknown mode {mode}");
        if (!Enum.IsDefined((MemmapLocation)map))
            throw new InvalidDataException($"unknown memmap location {map}");
        if (index > int.MaxValue || dpa > long.MaxValue || rawsize > long.MaxValue || align > long.MaxValue || lbasize > int.MaxValue)
            throw new InvalidDataException("a field is out of range");
        return new NamespaceLabel
        {
            Uuid = uuid,
            Name = name,
            Index = (int)index,
            Offset = (long)dpa,
            Size = (long)rawsize,
            Align = (long)align,
            SectorSize = (int)lbasize,
            Mode = (NamespaceMode)mode,
            Map = (MemmapLocation)map,
        };
    }

    /// <summary>Encodes this label into the first <see cref="EncodedSize"/> bytes of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        var d = destination[..EncodedSize];
        d.Clear();
        Uuid.TryWriteBytes(d[..16], bigEndian: true, out _);
        int n = Encoding.UTF8.GetByteCount(Name);
        if (n >= NameField || Name.Contains('\0'))
            throw new InvalidOperationException($"label name '{Name}' does not fit the {NameField - 1}-byte name field");
        Encoding.UTF8.GetBytes(Name, d.Slice(16, NameField));
        BinaryPrimitives.WriteUInt32LittleEndian(d[84..], (uint)Index);
        BinaryPrimitives.WriteUInt64LittleEndian(d[88..], (ulong)Offset);
        BinaryPrimitives.WriteUInt64LittleEndian(d[96..], (ulong)Size);
        BinaryPrimitives.WriteUInt64LittleEndian(d[104..], (ulong)Align);
        BinaryPrimitives.WriteUInt32LittleEndian(d[112..], (uint)SectorSize);
        d[116] = (byte)Mode;
        d[117] = (byte)Map;
    }

    /// <summary>Decodes a NUL-padded UTF-8 field; bytes after the first NUL must be zero.</summary>
    internal static string ReadName(ReadOnlySpan<byte> field)
    {
        int len = field.IndexOf((byte)0);
        if (len < 0)
            throw new InvalidDataException("a name field is not NUL terminated");
        if (field[len..].ContainsAnyExcept((byte)0))
            throw new InvalidDataException("a name field has bytes after its terminating NUL");
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(field[..len]);
        }
        catch (ArgumentException)
        {
            throw new InvalidDataException("a name field is not valid UTF-8");
        }
    }
}
