namespace DaxStack.Fs.Vfs;

/// <summary>A place in the tree: a mount and an inode of its filesystem.</summary>
/// <remarks>Models the kernel's <c>struct path</c> (<c>mnt</c>, <c>dentry</c>).</remarks>
public readonly record struct VfsPath(Mount Mount, Inode Inode);
