using System.Globalization;

namespace DaxStack.Interop.Tests.Servers;

/// <summary>
/// The TCP ports a process is listening on, read from procfs: its socket descriptors
/// (<c>/proc/PID/fd</c> links of the form <c>socket:[INODE]</c>) matched against the LISTEN
/// entries of <c>/proc/PID/net/tcp</c> and <c>tcp6</c>. This is how a server started on port 0
/// is found without a pick-then-release race. Models what <c>ss -ltnp</c> does.
/// </summary>
internal static class ListeningPorts
{
    // st column value for TCP_LISTEN in /proc/net/tcp (include/net/tcp_states.h).
    private const string TcpListen = "0A";

    /// <summary>The ports <paramref name="pid"/> listens on; empty if none yet or the process is gone.</summary>
    public static IReadOnlyList<int> Of(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                string? target = new FileInfo(fd).LinkTarget;
                if (target != null && target.StartsWith("socket:[", StringComparison.Ordinal) && target.EndsWith(']'))
                    inodes.Add(target["socket:[".Length..^1]);
            }
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or UnauthorizedAccessException or IOException)
        {
            // The process exited (or closed a descriptor) while we looked: no ports.
            return [];
        }

        var ports = new List<int>();
        foreach (var table in new[] { $"/proc/{pid}/net/tcp", $"/proc/{pid}/net/tcp6" })
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(table);
            }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or IOException)
            {
                continue;
            }
            // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
            foreach (var line in lines.Skip(1))
            {
                var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (cols.Length < 10 || cols[3] != TcpListen || !inodes.Contains(cols[9]))
                    continue;
                string local = cols[1];
                ports.Add(int.Parse(local[(local.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
        return ports;
    }
}
