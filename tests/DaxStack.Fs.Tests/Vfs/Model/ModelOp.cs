namespace DaxStack.Fs.Tests.Vfs.Model;

/// <summary>The system calls the model-based test issues.</summary>
internal enum ModelOp
{
    Open,
    Creat,
    Close,
    Write,
    Pwrite,
    Read,
    Pread,
    Lseek,
    Ftruncate,
    Truncate,
    Fallocate,
    Fsync,
    Unlink,
    Rename,
    Mkdir,
    Rmdir,
    Link,
    Readdir,
    Stat,
    Chmod,
    SetXattr,
    GetXattr,
    RemoveXattr,
    ListXattr,
}
