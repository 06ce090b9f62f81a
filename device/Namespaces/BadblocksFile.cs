using DaxStack.Device.Errors;
using System.Globalization;
using System.Text;
using DaxStack.Device.Poison;

namespace DaxStack.Device.Namespaces;

/// <summary>
/// The badblocks list kept beside an image (<c>IMAGE.badblocks</c>): the region's poisoned
/// ranges, one <c>SECTOR COUNT</c> line each, in 512-byte sectors relative to the start of the
/// region. No file means no poison. The file is replaced atomically and removed when the list
/// becomes empty, so clearing every error leaves the image directory as it was.
/// </summary>
/// <remarks>Models the text format of the kernel's <c>badblocks_show</c> (<c>/sys/block/pmemN/badblocks</c>).</remarks>
public static class BadblocksFile
{
    /// <summary>Largest badblocks file accepted, bytes.</summary>
    public const long MaxFileSize = 16L << 20;

    /// <summary>The badblocks path for <paramref name="imagePath"/>.</summary>
    public static string PathFor(string imagePath) => imagePath + ".badblocks";

    /// <summary>
    /// Reads the ranges in <paramref name="path"/> (empty if there is no such file), checking
    /// each line against a region of <paramref name="regionSize"/> bytes. A malformed line or a
    /// range outside the region throws <see cref="NamespaceException"/> (EIO).
    /// </summary>
    public static IReadOnlyList<PoisonList.BadRange> Load(string path, long regionSize)
    {
        var bytes = SideFile.ReadIfExists(path, MaxFileSize, "badblocks file");
        if (bytes == null)
            return [];
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (ArgumentException)
        {
            throw Corrupt(path, "not text");
        }
        return Parse(text, regionSize, path);
    }

    /// <summary>Decodes badblocks text (see <see cref="Load"/>); blank lines are ignored.</summary>
    public static IReadOnlyList<PoisonList.BadRange> Parse(string text, long regionSize, string source)
    {
        long sectors = regionSize / PoisonList.SectorSize;
        var ranges = new List<PoisonList.BadRange>();
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0)
                continue;
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2
                || !long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long sector)
                || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long count))
                throw Corrupt(source, $"line {i + 1}: '{Shorten(line)}' is not 'SECTOR COUNT'");
            if (count == 0)
                throw Corrupt(source, $"line {i + 1}: a range of 0 sectors");
            if (sector >= sectors || count > sectors - sector)
                throw Corrupt(source, $"line {i + 1}: sectors [{sector}, {sector}+{count}) are outside the {sectors}-sector region");
            ranges.Add(new PoisonList.BadRange(sector * PoisonList.SectorSize, count * PoisonList.SectorSize));
        }
        return ranges;
    }

    /// <summary>The text of <paramref name="ranges"/> (byte ranges, sector aligned).</summary>
    public static string Format(IEnumerable<PoisonList.BadRange> ranges)
    {
        var sb = new StringBuilder();
        foreach (var r in ranges)
            sb.Append(CultureInfo.InvariantCulture, $"{r.Offset / PoisonList.SectorSize} {r.Length / PoisonList.SectorSize}\n");
        return sb.ToString();
    }

    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="ranges"/>, or removes it when there are none.</summary>
    public static void Save(string path, IReadOnlyList<PoisonList.BadRange> ranges)
    {
        using var pending = Prepare(path, ranges);
        pending.Commit();
    }

    /// <summary>
    /// <see cref="Save"/> in two steps: the new file written aside now (or, for no ranges, its
    /// removal checked), made by <see cref="SideFile.Pending.Commit"/>. A list whose file would
    /// be larger than a valid one may be (<see cref="MaxFileSize"/>) is refused with ENOSPC, as
    /// the kernel refuses a badblocks entry when its table is full: written, no later command
    /// could read it.
    /// </summary>
    internal static SideFile.Pending Prepare(string path, IReadOnlyList<PoisonList.BadRange> ranges)
    {
        if (ranges.Count == 0)
            return SideFile.PrepareDelete(path, "badblocks file");
        byte[] bytes = Encoding.UTF8.GetBytes(Format(ranges));
        if (bytes.Length > MaxFileSize)
            throw new NamespaceException(Errno.ENOSPC,
                $"badblocks file '{path}' cannot record {ranges.Count} ranges: {bytes.Length} bytes, more than the {MaxFileSize} a valid one can hold");
        return SideFile.PrepareWrite(path, bytes, "badblocks file");
    }

    private static string Shorten(string line) => line.Length <= 40 ? line : line[..40] + "...";

    private static NamespaceException Corrupt(string source, string problem) =>
        new(Errno.EIO, $"badblocks file '{source}' is corrupt: {problem}");
}
