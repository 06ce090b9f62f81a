using DaxStack.Device.Errors;
using System.Buffers.Binary;

namespace DaxStack.Device.Namespaces;

/// <summary>
/// The contents of a label file (<c>IMAGE.labels</c>): a <see cref="NamespaceIndex"/> followed
/// by its <see cref="NamespaceLabel"/>s, the whole covered by one CRC-32C. As on a real NVDIMM,
/// labels live outside the media: the image holds only data. A file is replaced atomically
/// (temporary file, then rename), so a crash leaves the old labels or the new ones.
/// </summary>
/// <remarks>Models a DIMM's label storage area (LSA) as read by the kernel's <c>nd_label_validate</c> and written by <c>nd_label_write_index</c>.</remarks>
public sealed class LabelStorageArea
{
    /// <summary>Most labels a file may hold (a bound on what a corrupt header can make us read).</summary>
    public const int MaxLabels = 4096;

    /// <summary>Largest valid label file in bytes.</summary>
    public const long MaxFileSize = NamespaceIndex.EncodedSize + (long)MaxLabels * NamespaceLabel.EncodedSize;

    public LabelStorageArea(NamespaceIndex index, IReadOnlyList<NamespaceLabel> labels)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(labels);
        Index = index with { LabelCount = labels.Count };
        Labels = [.. labels];
    }

    /// <summary>The label file path for <paramref name="imagePath"/>.</summary>
    public static string PathFor(string imagePath) => imagePath + ".labels";

    /// <summary>The header.</summary>
    public NamespaceIndex Index { get; }

    /// <summary>The labels in file order.</summary>
    public IReadOnlyList<NamespaceLabel> Labels { get; }

    /// <summary>
    /// The file's bytes as this object was read from (<see cref="Load"/>) or last written
    /// (<see cref="Save"/>); null for one made in memory and not saved. A file that still holds
    /// exactly these bytes decodes to this object, so whoever wrote it can tell that nobody has
    /// changed it since by comparing bytes, without decoding and checksumming it again.
    /// </summary>
    internal byte[]? Encoded { get; private set; }

    /// <summary>The encoded file, checksum filled in.</summary>
    public byte[] ToBytes()
    {
        if (Labels.Count > MaxLabels)
            throw new InvalidOperationException($"{Labels.Count} labels exceed the format's {MaxLabels}");
        var bytes = new byte[NamespaceIndex.EncodedSize + Labels.Count * NamespaceLabel.EncodedSize];
        (Index with { Checksum = 0 }).WriteTo(bytes);
        for (int i = 0; i < Labels.Count; i++)
            Labels[i].WriteTo(bytes.AsSpan(NamespaceIndex.EncodedSize + i * NamespaceLabel.EncodedSize));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(NamespaceIndex.ChecksumOffset), Crc32C.Compute(bytes));
        return bytes;
    }

    /// <summary>
    /// Decodes a label file. A wrong length, signature, version, checksum or malformed label
    /// throws <see cref="NamespaceException"/> (EIO) naming <paramref name="source"/> and the
    /// problem. Whether the labels fit their image is checked separately.
    /// </summary>
    public static LabelStorageArea Parse(ReadOnlySpan<byte> bytes, string source)
    {
        NamespaceIndex index;
        try
        {
            index = NamespaceIndex.ReadFrom(bytes);
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(source, e.Message);
        }
        if (index.LabelCount > MaxLabels)
            throw Corrupt(source, $"header claims {index.LabelCount} labels, more than the {MaxLabels} allowed");
        long expected = NamespaceIndex.EncodedSize + (long)index.LabelCount * NamespaceLabel.EncodedSize;
        if (bytes.Length != expected)
            throw Corrupt(source, $"{bytes.Length} bytes, but a header with {index.LabelCount} labels needs {expected} (truncated or extended)");
        uint actual = Crc32C.ComputeWithZeroedField(bytes, NamespaceIndex.ChecksumOffset, sizeof(uint));
        if (actual != index.Checksum)
            throw Corrupt(source, $"checksum mismatch (stored 0x{index.Checksum:x8}, computed 0x{actual:x8})");
        var labels = new NamespaceLabel[index.LabelCount];
        for (int i = 0; i < labels.Length; i++)
        {
            try
            {
                labels[i] = NamespaceLabel.ReadFrom(bytes.Slice(NamespaceIndex.EncodedSize + i * NamespaceLabel.EncodedSize, NamespaceLabel.EncodedSize));
            }
            catch (InvalidDataException e)
            {
                throw Corrupt(source, $"label {i}: {e.Message}");
            }
        }
        return new LabelStorageArea(index, labels);
    }

    /// <summary>Reads and decodes <paramref name="path"/>; null if there is no such file.</summary>
    public static LabelStorageArea? Load(string path)
    {
        var bytes = SideFile.ReadIfExists(path, MaxFileSize, "label file");
        return bytes == null ? null : FromBytes(bytes, path);
    }

    /// <summary>Decodes <paramref name="bytes"/> as <see cref="Parse"/> does, and keeps them (the caller gives them up) as <see cref="Encoded"/>.</summary>
    internal static LabelStorageArea FromBytes(byte[] bytes, string source)
    {
        var area = Parse(bytes, source);
        area.Encoded = bytes;
        return area;
    }

    /// <summary>Atomically replaces <paramref name="path"/> with this label set.</summary>
    public void Save(string path)
    {
        var bytes = ToBytes();
        SideFile.WriteAtomically(path, bytes, "label file");
        Encoded = bytes;
    }

    internal static NamespaceException Corrupt(string source, string problem) =>
        new(Errno.EIO, $"label file '{source}' is corrupt: {problem}");
}
