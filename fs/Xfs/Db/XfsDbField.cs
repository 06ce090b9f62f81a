namespace DaxStack.Fs.Xfs.Db;

/// <summary>One printed field of a structure: xfs_db's name and its value as xfs_db shows it.</summary>
/// <remarks>Models one line of xfs_db's <c>print</c> output (<c>name = value</c>).</remarks>
/// <param name="Name">The field name (<c>agcount</c>, <c>core.mode</c>, <c>unlinked[0-63]</c>).</param>
/// <param name="Value">The formatted value; empty for a field that does not apply.</param>
public sealed record XfsDbField(string Name, string Value)
{
    /// <summary>The line xfs_db prints: <c>name = value</c>.</summary>
    public override string ToString() => $"{Name} = {Value}";
}
