namespace DaxStack.Fs.Xfs.Log;

/// <summary>A transaction found in the log with its commit operation inside a valid record.</summary>
/// <remarks>Models a transaction <c>xlog_recover_commit_trans</c> hands to the recovery passes.</remarks>
/// <param name="CommitLsn">LSN of the record holding the XLOG_COMMIT_TRANS operation.</param>
/// <param name="Transaction">The transaction.</param>
public sealed record XlogCommitted(ulong CommitLsn, XlogTransaction Transaction);
