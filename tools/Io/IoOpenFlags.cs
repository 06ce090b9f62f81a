namespace DaxStack.Tools.Io;

/// <summary>How the <c>io</c> runner opened a file: the open command's flags, shown by <c>stat</c> and the file list.</summary>
/// <remarks>Models xfs_io's <c>IO_READONLY</c>, <c>IO_APPEND</c>, <c>IO_CREAT</c> ... flags of <c>io/io.h</c>.</remarks>
[Flags]
public enum IoOpenFlags
{
    None = 0,

    /// <summary>O_RDONLY instead of O_RDWR (<c>-r</c>).</summary>
    ReadOnly = 1 << 0,

    /// <summary>O_APPEND (<c>-a</c>).</summary>
    Append = 1 << 1,

    /// <summary>O_CREAT (<c>-c</c> or <c>-f</c>).</summary>
    Create = 1 << 2,

    /// <summary>O_DIRECT (<c>-d</c>).</summary>
    Direct = 1 << 3,

    /// <summary>O_SYNC (<c>-s</c>).</summary>
    Sync = 1 << 4,

    /// <summary>O_TRUNC (<c>-t</c>).</summary>
    Truncate = 1 << 5,

    /// <summary>O_NONBLOCK (<c>-n</c>).</summary>
    NonBlock = 1 << 6,

    /// <summary>O_DSYNC (<c>-D</c>, our addition: xfs_io has no flag for it).</summary>
    DataSync = 1 << 7,

    /// <summary>The file is not on an XFS filesystem (<c>IO_FOREIGN</c>).</summary>
    Foreign = 1 << 8,
}
