namespace DaxStack.Device.Namespaces;

/// <summary>The names ndctl uses for <see cref="NamespaceMode"/> values (<c>raw</c>, <c>sector</c>, <c>fsdax</c>, <c>devdax</c>).</summary>
public static class NamespaceModeNames
{
    /// <summary>Every mode name, in the order ndctl documents them.</summary>
    public static IReadOnlyList<string> All { get; } = ["fsdax", "devdax", "sector", "raw"];

    /// <summary>The ndctl name of <paramref name="mode"/>.</summary>
    public static string ToName(this NamespaceMode mode) => mode switch
    {
        NamespaceMode.Raw => "raw",
        NamespaceMode.Sector => "sector",
        NamespaceMode.Fsdax => "fsdax",
        NamespaceMode.Devdax => "devdax",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a namespace mode"),
    };

    /// <summary>
    /// Parses a mode name. Besides the four names, accepts ndctl's older aliases <c>memory</c>
    /// (fsdax), <c>dax</c> (devdax) and <c>safe</c> (sector).
    /// </summary>
    public static bool TryParse(string? text, out NamespaceMode mode)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "raw": mode = NamespaceMode.Raw; return true;
            case "sector" or "safe": mode = NamespaceMode.Sector; return true;
            case "fsdax" or "memory": mode = NamespaceMode.Fsdax; return true;
            case "devdax" or "dax": mode = NamespaceMode.Devdax; return true;
            default: mode = default; return false;
        }
    }
}
