namespace DaxStack.Fs.Ramfs;

/// <summary>One name in a ramfs directory with the stable position (cookie) readdir reports for it.</summary>
/// <remarks>Models a dentry in a <c>simple_offset</c> directory (<c>offset_ctx</c>) of tmpfs.</remarks>
internal sealed record RamfsDirent(string Name, RamfsInode Inode, long Cookie);
