using System.Runtime.InteropServices;

namespace DaxStack.Interop.Tests.Servers;

/// <summary>
/// Sends a Linux signal to a process, so a server can be stopped the way an operator stops it
/// (SIGINT from a terminal, SIGTERM from systemd) rather than only killed. Models kill(2).
/// </summary>
internal static class PosixSignal
{
    /// <summary>Interrupt from the terminal (Ctrl-C).</summary>
    public const int SigInt = 2;

    /// <summary>Uncatchable kill: the process gets no chance to flush.</summary>
    public const int SigKill = 9;

    /// <summary>Polite termination request.</summary>
    public const int SigTerm = 15;

    /// <summary>User signal 1 (Linux numbering): daxstack serve simulates a power failure.</summary>
    public const int SigUsr1 = 10;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false if the process no longer exists.</summary>
    public static bool Send(int pid, int signal) => Kill(pid, signal) == 0;

    // DllImport rather than LibraryImport: ints marshal as themselves, and the source-generated
    // form would need AllowUnsafeBlocks in a project that otherwise has no unsafe code.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int sig);
}
