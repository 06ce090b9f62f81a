namespace DaxStack.Fs.Vfs;

/// <summary>
/// An attribute change the VFS has validated and passes to <see cref="IInodeOperations.SetAttr"/>:
/// only the fields named by <see cref="Valid"/> change. A size change truncates or extends.
/// </summary>
/// <remarks>Models the kernel's <c>struct iattr</c> as <c>notify_change()</c> hands it to <c>-&gt;setattr</c>.</remarks>
public readonly record struct InodeAttributes(
    AttrValid Valid,
    uint Mode,
    uint Uid,
    uint Gid,
    long Size,
    Timespec Time);
