using DaxStack.Fs.Vfs;

namespace DaxStack.Tools.Io;

/// <summary>
/// Column widths of <c>fiemap -v</c>'s table, at least 16, 16, 5 and 5 characters and widened to
/// fit the first batch of extents (offsets and block ranges in 512-byte units, flags in hex).
/// </summary>
/// <remarks>Models <c>calc_print_format()</c> of xfsprogs' io/fiemap.c.</remarks>
public struct FiemapWidths
{
    public FiemapWidths()
    {
    }

    /// <summary>Width of FILE-OFFSET.</summary>
    public int FileOffset { get; private set; } = 16;

    /// <summary>Width of BLOCK-RANGE.</summary>
    public int BlockRange { get; private set; } = 16;

    /// <summary>Width of TOTAL.</summary>
    public int Total { get; private set; } = 5;

    /// <summary>Width of FLAGS.</summary>
    public int Flags { get; private set; } = 5;

    /// <summary>Widens the columns for the extents of <paramref name="fiemap"/> up to the last one.</summary>
    public void Fit(Fiemap fiemap)
    {
        ArgumentNullException.ThrowIfNull(fiemap);
        for (int i = 0; i < fiemap.MappedExtents; i++)
        {
            var e = fiemap.Extents[i];
            ulong logical = (ulong)e.Logical >> 9;
            ulong len = (ulong)e.Length >> 9;
            ulong block = (ulong)e.Physical >> 9;
            FileOffset = Math.Max(FileOffset, $"[{logical}..{logical + len - 1}]".Length);
            BlockRange = Math.Max(BlockRange, $"{block}..{block + len - 1}".Length);
            Total = Math.Max(Total, len.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
            Flags = Math.Max(Flags, ((uint)e.Flags).ToString("x", System.Globalization.CultureInfo.InvariantCulture).Length);
            if ((e.Flags & FiemapExtentFlags.FIEMAP_EXTENT_LAST) != 0)
                break;
        }
    }
}
