using System.Text;
using DaxStack.Fs.Vfs;

namespace DaxStack.Tools.Io;

/// <summary>
/// The inode flags as xfs_io names them: one letter each for lsattr, chattr and stat
/// (<c>r p i a s A d t P n e E f S x C X</c>, in that order) and a long name for the verbose forms.
/// </summary>
/// <remarks>Models the <c>xflags[]</c> table and <c>printxattr()</c> of xfsprogs' io/attr.c (xfsprogs 6.1's set).</remarks>
public static class IoXflags
{
    private static readonly (FsXflags Flag, char Letter, string Name)[] Table =
    [
        (FsXflags.FS_XFLAG_REALTIME, 'r', "realtime"),
        (FsXflags.FS_XFLAG_PREALLOC, 'p', "prealloc"),
        (FsXflags.FS_XFLAG_IMMUTABLE, 'i', "immutable"),
        (FsXflags.FS_XFLAG_APPEND, 'a', "append-only"),
        (FsXflags.FS_XFLAG_SYNC, 's', "sync"),
        (FsXflags.FS_XFLAG_NOATIME, 'A', "no-atime"),
        (FsXflags.FS_XFLAG_NODUMP, 'd', "no-dump"),
        (FsXflags.FS_XFLAG_RTINHERIT, 't', "rt-inherit"),
        (FsXflags.FS_XFLAG_PROJINHERIT, 'P', "proj-inherit"),
        (FsXflags.FS_XFLAG_NOSYMLINKS, 'n', "nosymlinks"),
        (FsXflags.FS_XFLAG_EXTSIZE, 'e', "extsize"),
        (FsXflags.FS_XFLAG_EXTSZINHERIT, 'E', "extsz-inherit"),
        (FsXflags.FS_XFLAG_NODEFRAG, 'f', "no-defrag"),
        (FsXflags.FS_XFLAG_FILESTREAM, 'S', "filestream"),
        (FsXflags.FS_XFLAG_DAX, 'x', "dax"),
        (FsXflags.FS_XFLAG_COWEXTSIZE, 'C', "cowextsize"),
        (FsXflags.FS_XFLAG_HASATTR, 'X', "has-xattr"),
    ];

    /// <summary>The letters chattr accepts after + or - (p and X are read-only), as its usage shows them.</summary>
    public const string ChattrLetters = "riasAdtPneEfSxC";

    /// <summary>The flag of a chattr letter; false for a letter xfs_io does not know.</summary>
    public static bool TryParseLetter(char letter, out FsXflags flag)
    {
        foreach (var (f, l, _) in Table)
        {
            if (l == letter)
            {
                flag = f;
                return true;
            }
        }
        flag = FsXflags.None;
        return false;
    }

    /// <summary>
    /// The flags as printxattr shows them: short form one letter or '-' per flag, verbose form
    /// the long names of the set flags joined by ", "; optionally in brackets.
    /// </summary>
    public static string Format(FsXflags flags, bool verbose, bool braces)
    {
        var sb = new StringBuilder();
        if (braces)
            sb.Append('[');
        bool first = true;
        foreach (var (f, letter, name) in Table)
        {
            if ((flags & f) != 0)
            {
                if (verbose)
                {
                    if (!first)
                        sb.Append(", ");
                    first = false;
                    sb.Append(name);
                }
                else
                    sb.Append(letter);
            }
            else if (!verbose)
                sb.Append('-');
        }
        if (braces)
            sb.Append(']');
        return sb.ToString();
    }
}
