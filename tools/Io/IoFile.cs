namespace DaxStack.Tools.Io;

/// <summary>One file the <c>io</c> runner holds open: its descriptor, the name it was opened by and the open flags.</summary>
/// <remarks>Models xfs_io's <c>fileio_t</c> (<c>fd</c>, <c>flags</c>, <c>name</c>) in its file table.</remarks>
public sealed record IoFile(int Fd, string Name, IoOpenFlags Flags);
