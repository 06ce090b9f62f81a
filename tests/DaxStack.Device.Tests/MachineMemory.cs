namespace DaxStack.Device.Tests;

/// <summary>What Linux says about this machine's memory, for tests whose outcome depends on it.</summary>
internal static class MachineMemory
{
    /// <summary>RAM plus swap in bytes (MemTotal + SwapTotal of /proc/meminfo).</summary>
    public static long TotalWithSwap() => File.ReadLines("/proc/meminfo")
        .Where(l => l.StartsWith("MemTotal:", StringComparison.Ordinal) || l.StartsWith("SwapTotal:", StringComparison.Ordinal))
        .Sum(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024);

    /// <summary>The overcommit policy (/proc/sys/vm/overcommit_memory): "0" heuristic, "1" always, "2" strict.</summary>
    public static string OvercommitPolicy() => File.ReadAllText("/proc/sys/vm/overcommit_memory").Trim();
}
