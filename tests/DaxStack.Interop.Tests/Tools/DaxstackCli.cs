using DaxStack.Interop.Tests.Servers;

namespace DaxStack.Interop.Tests.Tools;

/// <summary>
/// Runs a one-shot <c>daxstack</c> command (for example <c>ndctl create-namespace</c>) as its own
/// process, the way a user prepares an image before serving it.
/// </summary>
internal static class DaxstackCli
{
    /// <summary>Runs <c>dotnet daxstack.dll ARGS</c> within <paramref name="timeout"/>.</summary>
    public static ToolResult Run(TimeSpan timeout, params string[] args) =>
        ChildProcess.Run(DaxstackServe.DotnetHost, "dotnet", [DaxstackServe.DllPath, .. args], timeout);
}
