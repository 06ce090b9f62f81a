using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Trans;

/// <summary>
/// A committer in the shape the journal will have: it records what each commit handed over
/// (buffers, logged ranges, stale flags) and leaves the buffers dirty in the cache for a later
/// write-back instead of writing them.
/// </summary>
internal sealed class KeepDirtyCommitter : ITransactionCommitter
{
    public List<(string Buffer, XfsBufferRange[] Ranges, bool Stale, bool New)[]> Commits { get; } = [];

    public void Commit(XfsTransaction transaction, IReadOnlyList<XfsBufferLogItem> items) =>
        Commits.Add([.. items.Select(i => (i.Buffer.Name, i.Ranges.ToArray(), i.IsStale, i.IsNew))]);
}
