using System.Numerics;

namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The name hash XFS orders directory leaf entries and dabtree nodes by: the name is folded
/// four bytes at a time, each byte shifted by a multiple of 7 bits, into a 32-bit value that is
/// rotated by 28 bits per round; a 1 to 3 byte remainder is folded the same way.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_da_hashname</c> (libxfs/xfs_da_btree.c).</remarks>
public static class XfsDaHash
{
    /// <summary>The hash of <paramref name="name"/>.</summary>
    public static uint HashName(ReadOnlySpan<byte> name)
    {
        uint hash = 0;
        int i = 0;
        for (; name.Length - i >= 4; i += 4)
            hash = ((uint)name[i] << 21) ^ ((uint)name[i + 1] << 14) ^ ((uint)name[i + 2] << 7) ^ name[i + 3] ^ BitOperations.RotateLeft(hash, 7 * 4);
        return (name.Length - i) switch
        {
            3 => ((uint)name[i] << 14) ^ ((uint)name[i + 1] << 7) ^ name[i + 2] ^ BitOperations.RotateLeft(hash, 7 * 3),
            2 => ((uint)name[i] << 7) ^ name[i + 1] ^ BitOperations.RotateLeft(hash, 7 * 2),
            1 => name[i] ^ BitOperations.RotateLeft(hash, 7),
            _ => hash,
        };
    }
}
