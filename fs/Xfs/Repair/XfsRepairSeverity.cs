namespace DaxStack.Fs.Xfs.Repair;

/// <summary>How serious a finding of the checker is.</summary>
/// <remarks>xfs_repair -n distinguishes problems it would fix (exit status 1) from informational lines; this is that distinction.</remarks>
public enum XfsRepairSeverity
{
    /// <summary>An inconsistency: the filesystem is damaged (the checker exits 1).</summary>
    Error,

    /// <summary>Something the checker could not verify, said so honestly; not a problem of the filesystem.</summary>
    Note,
}
