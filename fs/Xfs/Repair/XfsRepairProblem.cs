namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// One finding of the checker: which structure (<c>agf 1</c>, <c>bnobt block 0/1</c>,
/// <c>inode 131</c>, <c>ag 2</c>), what is wrong with it, how serious it is and in which phase
/// it was found. <see cref="ToString"/> is the line the command prints.
/// </summary>
/// <remarks>Models one of the messages xfs_repair -n prints (<c>do_warn</c>) for a structure it would fix.</remarks>
/// <param name="Phase">The checker phase (1 to 7) that found it.</param>
/// <param name="Structure">The structure, named as the rest of DaxStack names it in errors.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Severity">Error or note.</param>
public sealed record XfsRepairProblem(int Phase, string Structure, string Message, XfsRepairSeverity Severity)
{
    /// <summary><c>STRUCTURE: MESSAGE</c>, with <c>note: </c> in front of notes.</summary>
    public override string ToString() =>
        Severity == XfsRepairSeverity.Note ? $"note: {Structure}: {Message}" : $"{Structure}: {Message}";
}
