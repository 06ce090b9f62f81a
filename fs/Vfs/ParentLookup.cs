namespace DaxStack.Fs.Vfs;

/// <summary>The result of walking all but the last component of a path.</summary>
/// <remarks>Models the <c>nameidata</c> state after <c>filename_parentat</c>: the parent path, <c>last</c>, <c>last_type</c>, and whether a slash followed the last component.</remarks>
internal readonly record struct ParentLookup(VfsPath Parent, string Last, LastComponentType Type, bool TrailingSlash);
