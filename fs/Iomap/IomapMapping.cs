namespace DaxStack.Fs.Iomap;

/// <summary>
/// One mapping of file bytes <see cref="Offset"/>..+<see cref="Length"/> to storage: for
/// <see cref="IomapType.Mapped"/> and <see cref="IomapType.Unwritten"/> ranges the device byte
/// address <see cref="Address"/> of the first byte.
/// </summary>
/// <remarks>Models the kernel's <c>struct iomap</c> (<c>offset</c>, <c>length</c>, <c>type</c>, <c>addr</c>, <c>flags</c>).</remarks>
public readonly record struct IomapMapping(long Offset, long Length, IomapType Type, long Address, IomapMapFlags Flags = IomapMapFlags.None)
{
    /// <summary>IOMAP_NULL_ADDR: no storage.</summary>
    public const long NullAddress = -1;

    /// <summary>One past the last byte.</summary>
    public long End => Offset + Length;

    /// <summary>The device address of file byte <paramref name="pos"/>, which must lie in the mapping.</summary>
    public long AddressOf(long pos)
    {
        if (pos < Offset || pos >= End)
            throw new ArgumentOutOfRangeException(nameof(pos), pos, $"outside the mapping {Offset}+{Length}");
        if (Type is not (IomapType.Mapped or IomapType.Unwritten))
            throw new InvalidOperationException($"a {Type} mapping has no storage");
        return Address + (pos - Offset);
    }
}
