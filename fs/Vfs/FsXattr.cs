namespace DaxStack.Fs.Vfs;

/// <summary>
/// The argument of <c>FS_IOC_FSGETXATTR</c> / <c>FS_IOC_FSSETXATTR</c>: inode flags, extent size
/// hints in bytes, project id and (get only) the number of data extents.
/// </summary>
/// <remarks>Models <c>struct fsxattr</c> (<c>fsx_xflags</c>, <c>fsx_extsize</c>, <c>fsx_nextents</c>, <c>fsx_projid</c>, <c>fsx_cowextsize</c>).</remarks>
public readonly record struct FsXattr(FsXflags XFlags, uint ExtSize, uint NExtents, uint ProjId, uint CowExtSize);
