namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// The result of one check: every problem and note in the order found, the phases run, and
/// the summary counts. <see cref="WriteTo"/> prints it as <c>daxstack repair -n</c> does: a line
/// per phase followed by that phase's findings, one per line, then a summary line.
/// </summary>
/// <remarks>Models what xfs_repair -n prints and its exit status (0 clean, 1 would repair).</remarks>
public sealed class XfsRepairReport
{
    /// <summary>The phase titles, index 0 for phase 1.</summary>
    public static readonly IReadOnlyList<string> PhaseTitles =
    [
        "find and verify superblock...",
        "scan filesystem freespace and inode maps...",
        "process known inodes and perform inode discovery...",
        "check for duplicate and leaked blocks and reference counts...",
        "verify superblock summary counters...",
        "check inode connectivity...",
        "verify link counts...",
    ];

    internal XfsRepairReport(IReadOnlyList<XfsRepairProblem> problems, int dropped)
    {
        Problems = problems;
        Dropped = dropped;
    }

    /// <summary>Every finding, errors and notes, in the order found.</summary>
    public IReadOnlyList<XfsRepairProblem> Problems { get; }

    /// <summary>Errors left out after the options' MaxProblems was reached.</summary>
    public int Dropped { get; }

    /// <summary>The errors.</summary>
    public IEnumerable<XfsRepairProblem> Errors => Problems.Where(p => p.Severity == XfsRepairSeverity.Error);

    /// <summary>The notes.</summary>
    public IEnumerable<XfsRepairProblem> Notes => Problems.Where(p => p.Severity == XfsRepairSeverity.Note);

    /// <summary>Whether no error was found.</summary>
    public bool IsClean => Dropped == 0 && !Errors.Any();

    /// <summary>Whether some error names <paramref name="structure"/> exactly or starts with it followed by a space or slash (<c>"agf"</c> matches <c>agf 1</c>).</summary>
    public bool HasErrorIn(string structure) =>
        Errors.Any(p => p.Structure == structure || p.Structure.StartsWith(structure + " ", StringComparison.Ordinal)
                                                 || p.Structure.StartsWith(structure + "/", StringComparison.Ordinal));

    /// <summary>Prints the phases with their findings and a summary line.</summary>
    public void WriteTo(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        for (int phase = 1; phase <= PhaseTitles.Count; phase++)
        {
            output.WriteLine($"Phase {phase} - {PhaseTitles[phase - 1]}");
            foreach (var p in Problems.Where(p => p.Phase == phase))
                output.WriteLine($"        {p}");
        }
        int errors = Errors.Count() + Dropped;
        if (Dropped > 0)
            output.WriteLine($"{Dropped} more problems not listed.");
        output.WriteLine(errors == 0 ? "No problems found." : $"{errors} problem{(errors == 1 ? "" : "s")} found.");
    }
}
