namespace DaxStack.Fs.Vfs;

/// <summary>What <c>statfs(2)</c> returns about a mounted filesystem.</summary>
/// <remarks>Models <c>struct statfs</c> (<c>f_type</c>, <c>f_bsize</c>, <c>f_blocks</c>, ... <c>f_namelen</c>, <c>f_flags</c>).</remarks>
public readonly record struct StatFs(
    long Type,
    long BlockSize,
    long Blocks,
    long BlocksFree,
    long BlocksAvailable,
    long Files,
    long FilesFree,
    long NameLength,
    long FragmentSize,
    long Flags)
{
    /// <summary><c>ST_RDONLY</c> in <see cref="Flags"/>.</summary>
    public const long ST_RDONLY = 1;
}
