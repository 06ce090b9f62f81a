namespace DaxStack.Device.Hosting;

/// <summary>
/// A user-defined cost profile from configuration: a built-in base and the values to change
/// (nanoseconds, GB/s, bytes; the same names as <see cref="Cost.CostProfile"/>'s properties).
/// Values left unset keep the base profile's.
/// </summary>
public sealed class CustomProfileOptions
{
    /// <summary>The built-in profile to start from. Default optane-adr.</summary>
    public string Base { get; set; } = "optane-adr";

    /// <summary>Overrides: property name of <see cref="Cost.CostProfile"/> to value.</summary>
    public Dictionary<string, string> Set { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}
