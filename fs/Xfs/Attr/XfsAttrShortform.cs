using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Attr;

/// <summary>
/// The short-form attribute fork stored in the inode's literal area from di_forkoff × 8: a
/// 4-byte header (totsize be16 = header plus every entry, count u8, one pad byte) followed by
/// <c>count</c> packed <see cref="XfsAttrSfEntry"/> entries. The namespace of an entry is in
/// its flags: <see cref="FlagRoot"/> for trusted., <see cref="FlagSecure"/> for security., none
/// for user.
/// </summary>
/// <remarks>Models <c>struct xfs_attr_sf_hdr</c> / <c>xfs_attr_shortform</c> (xfs_da_format.h) with the checks of <c>xfs_attr_shortform_verify</c> (xfs_attr_leaf.c) and <c>xfs_attr_check_namespace</c>.</remarks>
public static class XfsAttrShortform
{
    /// <summary>sizeof(xfs_attr_sf_hdr).</summary>
    public const int HeaderSize = 4;

    /// <summary>XFS_ATTR_SF_ENTSIZE_MAX: a name or value this long or longer does not go short-form.</summary>
    public const int EntSizeMax = 255;

    /// <summary>XFS_ATTR_LOCAL: a leaf-format flag, never valid in short form.</summary>
    public const byte FlagLocal = 1 << 0;

    /// <summary>XFS_ATTR_ROOT: the trusted. namespace.</summary>
    public const byte FlagRoot = 1 << 1;

    /// <summary>XFS_ATTR_SECURE: the security. namespace.</summary>
    public const byte FlagSecure = 1 << 2;

    /// <summary>XFS_ATTR_NSP_ONDISK_MASK without parent pointers (a feature our format lacks).</summary>
    public const byte NamespaceMask = FlagRoot | FlagSecure;

    /// <summary>The on-disk namespace flags of <paramref name="ns"/>.</summary>
    public static byte FlagsOf(XattrNamespace ns) => ns switch
    {
        XattrNamespace.User => 0,
        XattrNamespace.Trusted => FlagRoot,
        XattrNamespace.Security => FlagSecure,
        _ => throw new ArgumentOutOfRangeException(nameof(ns), ns, "not an xattr namespace"),
    };

    /// <summary>The namespace of on-disk <paramref name="flags"/> (already verified).</summary>
    public static XattrNamespace NamespaceOf(byte flags) =>
        (flags & FlagRoot) != 0 ? XattrNamespace.Trusted : (flags & FlagSecure) != 0 ? XattrNamespace.Security : XattrNamespace.User;

    /// <summary>
    /// What is wrong with the short-form fork in <paramref name="fork"/> (the whole attribute fork
    /// area of the inode), or null: totsize below the header or beyond the fork, an entry whose
    /// fixed part or name and value run past totsize, a zero-length name, unknown or several
    /// namespace flags, and entries that do not end exactly at totsize.
    /// </summary>
    public static string? Verify(ReadOnlySpan<byte> fork)
    {
        if (fork.Length < HeaderSize)
            return $"attr fork of {fork.Length} bytes cannot hold the {HeaderSize}-byte short-form header";
        int totsize = Be.U16(fork, 0);
        int count = fork[2];
        if (totsize < HeaderSize)
            return $"bad attr totsize {totsize}: below the {HeaderSize}-byte header";
        if (totsize > fork.Length)
            return $"bad attr totsize {totsize}: beyond the {fork.Length}-byte attr fork";
        int pos = HeaderSize;
        for (int i = 0; i < count; i++)
        {
            if (pos + XfsAttrSfEntry.HeaderSize >= totsize)
                return $"attr entry {i} of {count} starts at byte {pos}, past totsize {totsize}";
            int namelen = fork[pos], valuelen = fork[pos + 1];
            byte flags = fork[pos + 2];
            if (namelen == 0)
                return $"attr entry {i} has a zero-length name";
            int next = pos + XfsAttrSfEntry.EntrySize(namelen, valuelen);
            if (next > totsize)
                return $"attr entry {i} (namelen {namelen}, valuelen {valuelen}) runs past totsize {totsize}";
            if ((flags & ~NamespaceMask) != 0)
                return $"attr entry {i} has unknown flags 0x{flags:x}";
            if (flags == NamespaceMask)
                return $"attr entry {i} has flags 0x{flags:x} naming two namespaces";
            if (fork.Slice(pos + XfsAttrSfEntry.HeaderSize, namelen).Contains((byte)0))
                return $"attr entry {i} has a NUL byte in its name";
            pos = next;
        }
        if (pos != totsize)
            return $"bad attr totsize {totsize}: the {count} entries end at byte {pos}";
        return null;
    }

    /// <summary>
    /// The entries of the verified short-form fork in <paramref name="fork"/>;
    /// <see cref="XfsCorruptionException"/> naming <paramref name="structure"/> when
    /// <see cref="Verify"/> finds a problem.
    /// </summary>
    public static List<XfsAttrSfEntry> Decode(ReadOnlySpan<byte> fork, string structure)
    {
        if (Verify(fork) is { } problem)
            throw new XfsCorruptionException(structure, problem);
        int count = fork[2];
        var entries = new List<XfsAttrSfEntry>(count);
        int pos = HeaderSize;
        for (int i = 0; i < count; i++)
        {
            int namelen = fork[pos], valuelen = fork[pos + 1];
            var name = fork.Slice(pos + XfsAttrSfEntry.HeaderSize, namelen).ToArray();
            var value = fork.Slice(pos + XfsAttrSfEntry.HeaderSize + namelen, valuelen).ToArray();
            entries.Add(new XfsAttrSfEntry(fork[pos + 2], name, value));
            pos += XfsAttrSfEntry.EntrySize(namelen, valuelen);
        }
        return entries;
    }

    /// <summary>The bytes of a short-form fork holding <paramref name="entries"/> in order (exactly totsize bytes).</summary>
    public static byte[] Encode(IReadOnlyList<XfsAttrSfEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count > byte.MaxValue)
            throw new InvalidOperationException($"{entries.Count} attributes do not fit the short-form count byte");
        int total = HeaderSize + entries.Sum(e => e.Size);
        if (total > ushort.MaxValue)
            throw new InvalidOperationException($"a short-form attr fork of {total} bytes");
        var fork = new byte[total];
        Be.Put16(fork, 0, (ushort)total);
        fork[2] = (byte)entries.Count;
        int pos = HeaderSize;
        foreach (var e in entries)
        {
            if (e.Name.Length is 0 or >= EntSizeMax || e.Value.Length >= EntSizeMax)
                throw new InvalidOperationException($"attr name of {e.Name.Length} or value of {e.Value.Length} bytes cannot go short-form");
            fork[pos] = (byte)e.Name.Length;
            fork[pos + 1] = (byte)e.Value.Length;
            fork[pos + 2] = e.Flags;
            e.Name.CopyTo(fork, pos + XfsAttrSfEntry.HeaderSize);
            e.Value.CopyTo(fork, pos + XfsAttrSfEntry.HeaderSize + e.Name.Length);
            pos += e.Size;
        }
        return fork;
    }
}
