namespace DaxStack.Fs.Vfs;

/// <summary>The <c>cmd</c> argument of <c>fcntl(2)</c> that the VFS implements.</summary>
/// <remarks>Models <c>F_GETFD</c> .. <c>F_SETFL</c> of <c>include/uapi/asm-generic/fcntl.h</c>.</remarks>
public enum FcntlCommand
{
    F_GETFD = 1,
    F_SETFD = 2,
    F_GETFL = 3,
    F_SETFL = 4,
}
