namespace DaxStack.Fs.Xfs.Attr;

/// <summary>
/// One entry of a short-form attribute fork: namespace flags, name and value. On disk it is
/// namelen (u8), valuelen (u8), flags (u8), then the name and the value bytes, unpadded.
/// </summary>
/// <remarks>Models <c>struct xfs_attr_sf_entry</c> (xfs_da_format.h) and <c>xfs_attr_sf_entsize_byname</c>.</remarks>
public sealed record XfsAttrSfEntry(byte Flags, byte[] Name, byte[] Value)
{
    /// <summary>Bytes of the fixed part: namelen, valuelen, flags.</summary>
    public const int HeaderSize = 3;

    /// <summary>Bytes the entry takes in the fork.</summary>
    public int Size => EntrySize(Name.Length, Value.Length);

    /// <summary>xfs_attr_sf_entsize_byname: bytes an entry of this name and value length takes.</summary>
    public static int EntrySize(int nameLength, int valueLength) => HeaderSize + nameLength + valueLength;

    /// <summary>Whether this entry has <paramref name="flags"/> (namespace bits) and <paramref name="name"/>.</summary>
    public bool Matches(byte flags, ReadOnlySpan<byte> name) =>
        (Flags & XfsAttrShortform.NamespaceMask) == flags && Name.AsSpan().SequenceEqual(name);
}
