namespace DaxStack.Fs.Vfs;

/// <summary>
/// The POSIX capabilities the VFS checks, one bit per capability at the bit position Linux gives
/// it (<c>1 &lt;&lt; CAP_xxx</c>).
/// </summary>
/// <remarks>Models the kernel's <c>kernel_cap_t</c> and the numbers in <c>include/uapi/linux/capability.h</c>.</remarks>
[Flags]
public enum Capabilities : ulong
{
    None = 0,
    CAP_CHOWN = 1UL << 0,
    CAP_DAC_OVERRIDE = 1UL << 1,
    CAP_DAC_READ_SEARCH = 1UL << 2,
    CAP_FOWNER = 1UL << 3,
    CAP_FSETID = 1UL << 4,
    CAP_LINUX_IMMUTABLE = 1UL << 9,
    CAP_SYS_ADMIN = 1UL << 21,
    CAP_SYS_RESOURCE = 1UL << 24,
    CAP_MKNOD = 1UL << 27,

    /// <summary>Every capability this enum names (a root process).</summary>
    All = CAP_CHOWN | CAP_DAC_OVERRIDE | CAP_DAC_READ_SEARCH | CAP_FOWNER | CAP_FSETID | CAP_LINUX_IMMUTABLE
        | CAP_SYS_ADMIN | CAP_SYS_RESOURCE | CAP_MKNOD,
}
