using System.Runtime.InteropServices;

namespace DaxStack.Device.Namespaces;

/// <summary>
/// Linux open file description locks (<c>fcntl(F_OFD_SETLK)</c>, fcntl(2)): write locks on a
/// byte range that belong to one open of a file, not to the process. .NET's
/// <see cref="FileStream.Lock"/> takes classic POSIX record locks, which the kernel drops as soon
/// as the process closes <em>any</em> descriptor of the file. A namespace hold must last while
/// the same process opens and closes the image for other work (a badblocks update takes the
/// image's label lock on a descriptor of its own, and closes it). An open file description lock
/// lasts until its own descriptor is closed. It conflicts with POSIX locks of other processes,
/// and with other open file description locks, this process's included.
/// </summary>
internal static class OpenFileLock
{
    private const int FOfdSetLk = 37;   // Linux fcntl.h
    private const short FWrLck = 1;
    private const short SeekSet = 0;
    private const int EAgain = 11, EAcces = 13;

    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;     // must be 0 for an open file description lock
    }

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int fd, int command, ref Flock lk);

    /// <summary>What <see cref="TryLock"/> found.</summary>
    public enum Result
    {
        /// <summary>The lock is held through the given stream now.</summary>
        Locked,
        /// <summary>Another open of the file holds a conflicting lock (in this process or another).</summary>
        HeldElsewhere,
        /// <summary>This system or file system has no open file description locks.</summary>
        Unsupported,
    }

    /// <summary>
    /// Write-locks the byte at <paramref name="position"/> of the file open in
    /// <paramref name="file"/> without waiting. The lock lasts until that stream is closed.
    /// </summary>
    public static Result TryLock(FileStream file, long position)
    {
        if (!OperatingSystem.IsLinux())
            return Result.Unsupported;
        var lk = new Flock { Type = FWrLck, Whence = SeekSet, Start = position, Length = 1 };
        bool added = false;
        var handle = file.SafeFileHandle;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Fcntl((int)handle.DangerousGetHandle(), FOfdSetLk, ref lk) == 0)
                return Result.Locked;
            int errno = Marshal.GetLastPInvokeError();
            return errno is EAgain or EAcces ? Result.HeldElsewhere : Result.Unsupported;
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }
}
