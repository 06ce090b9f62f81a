using System.Buffers;

namespace DaxStack.Driver.Block;

/// <summary>
/// One block request: an operation, its flags, where it starts (in 512-byte sectors, whatever
/// the logical block size) and how long it is, and the memory it reads into or writes from,
/// either one contiguous <see cref="Buffer"/> or a vector of segments (<see cref="Vectors"/>,
/// segments of any length whose total is <see cref="Size"/>). A bio lives on the stack for the
/// duration of <see cref="IBlockDeviceOperations.SubmitBio"/>; completion is the return.
/// </summary>
/// <remarks>Models the kernel's <c>struct bio</c> with its <c>bi_iter</c> and <c>bi_io_vec</c>.</remarks>
public readonly ref struct Bio
{
    /// <summary>The size of a sector, the unit of <see cref="Sector"/>.</summary>
    public const int SectorSize = 512;

    /// <summary>The operation.</summary>
    public BioOp Op { get; init; }

    /// <summary>Flags (FUA, PREFLUSH).</summary>
    public BioFlags Flags { get; init; }

    /// <summary>The first 512-byte sector (the kernel's <c>bi_iter.bi_sector</c>).</summary>
    public long Sector { get; init; }

    /// <summary>Length in bytes (the kernel's <c>bi_iter.bi_size</c>).</summary>
    public long Size { get; init; }

    /// <summary>The data of a read or write when it is one contiguous buffer.</summary>
    public Span<byte> Buffer { get; init; }

    /// <summary>The data of a vectored read or write (used when <see cref="Buffer"/> is empty); a read fills the segments.</summary>
    public ReadOnlySequence<byte> Vectors { get; init; }

    /// <summary>Whether the data lives in <see cref="Vectors"/>.</summary>
    public bool IsVectored => Buffer.IsEmpty && !Vectors.IsEmpty;

    /// <summary>Byte offset of the first sector.</summary>
    public long Offset => Sector * SectorSize;

    /// <summary>A read of <paramref name="destination"/>.Length bytes at <paramref name="offset"/> bytes.</summary>
    public static Bio Read(long offset, Span<byte> destination) =>
        new() { Op = BioOp.Read, Sector = ToSector(offset), Size = destination.Length, Buffer = destination };

    /// <summary>A vectored read filling the segments of <paramref name="destination"/> in order.</summary>
    public static Bio Read(long offset, ReadOnlySequence<byte> destination) =>
        new() { Op = BioOp.Read, Sector = ToSector(offset), Size = destination.Length, Vectors = destination };

    /// <summary>A write of <paramref name="source"/> at <paramref name="offset"/> bytes.</summary>
    public static Bio Write(long offset, ReadOnlySpan<byte> source, BioFlags flags = BioFlags.None) =>
        new()
        {
            Op = BioOp.Write, Flags = flags, Sector = ToSector(offset), Size = source.Length,
            // The driver only reads a write's buffer; Span is the one field type for both directions.
            Buffer = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
                ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source), source.Length),
        };

    /// <summary>A vectored write of the segments of <paramref name="source"/>.</summary>
    public static Bio Write(long offset, ReadOnlySequence<byte> source, BioFlags flags = BioFlags.None) =>
        new() { Op = BioOp.Write, Flags = flags, Sector = ToSector(offset), Size = source.Length, Vectors = source };

    /// <summary>An empty flush bio.</summary>
    public static Bio Flush() => new() { Op = BioOp.Flush };

    /// <summary>A discard of <paramref name="length"/> bytes at <paramref name="offset"/> (any <paramref name="flags"/> make it fail with EIO: see <see cref="BioFlags"/>).</summary>
    public static Bio Discard(long offset, long length, BioFlags flags = BioFlags.None) =>
        new() { Op = BioOp.Discard, Flags = flags, Sector = ToSector(offset), Size = length };

    /// <summary>A write-zeroes of <paramref name="length"/> bytes at <paramref name="offset"/> (any <paramref name="flags"/> make it fail with EIO: see <see cref="BioFlags"/>).</summary>
    public static Bio WriteZeroes(long offset, long length, BioFlags flags = BioFlags.None) =>
        new() { Op = BioOp.WriteZeroes, Flags = flags, Sector = ToSector(offset), Size = length };

    // A byte offset that is not a whole sector cannot be expressed as a bio; -1 makes SubmitBio
    // reject it as misaligned (EINVAL) instead of silently rounding.
    private static long ToSector(long offset) => offset % SectorSize == 0 ? offset / SectorSize : -1;
}
