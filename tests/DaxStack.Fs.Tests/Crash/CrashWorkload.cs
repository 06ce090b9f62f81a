namespace DaxStack.Fs.Tests.Crash;

/// <summary>A named syscall workload for the crash suite: a script run on a <see cref="CrashModel"/>.</summary>
/// <remarks>Models one of fstests' crash-consistency workloads (a dm-flakey/dm-log-writes test body).</remarks>
internal sealed record CrashWorkload(string Name, Action<CrashModel> Script)
{
    public override string ToString() => Name;
}
