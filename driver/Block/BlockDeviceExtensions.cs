using System.Buffers;

namespace DaxStack.Driver.Block;

/// <summary>Shorthands that build one bio and submit it.</summary>
public static class BlockDeviceExtensions
{
    /// <summary>Reads <paramref name="destination"/>.Length bytes at byte <paramref name="offset"/>.</summary>
    public static BlkStatus Read(this IBlockDeviceOperations device, long offset, Span<byte> destination) =>
        device.SubmitBio(Bio.Read(offset, destination));

    /// <summary>Writes <paramref name="source"/> at byte <paramref name="offset"/>.</summary>
    public static BlkStatus Write(this IBlockDeviceOperations device, long offset, ReadOnlySpan<byte> source, BioFlags flags = BioFlags.None) =>
        device.SubmitBio(Bio.Write(offset, source, flags));

    /// <summary>Writes the segments of <paramref name="source"/> at byte <paramref name="offset"/>.</summary>
    public static BlkStatus Write(this IBlockDeviceOperations device, long offset, ReadOnlySequence<byte> source, BioFlags flags = BioFlags.None) =>
        device.SubmitBio(Bio.Write(offset, source, flags));

    /// <summary>Makes every completed write durable.</summary>
    public static BlkStatus Flush(this IBlockDeviceOperations device) => device.SubmitBio(Bio.Flush());

    /// <summary>Discards <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    public static BlkStatus Discard(this IBlockDeviceOperations device, long offset, long length, BioFlags flags = BioFlags.None) =>
        device.SubmitBio(Bio.Discard(offset, length, flags));

    /// <summary>Writes zeroes over <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    public static BlkStatus WriteZeroes(this IBlockDeviceOperations device, long offset, long length, BioFlags flags = BioFlags.None) =>
        device.SubmitBio(Bio.WriteZeroes(offset, length, flags));
}
