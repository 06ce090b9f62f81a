namespace DaxStack.Device.Hosting;

/// <summary>
/// A user-defined cost profile from configuration: a built-in base and the values to change
/// (nanoseconds, GB/s, bytes; the same names as <see cref="Cost.CostProfile"/>'s properties).
/// Values left unset keep the base profile's.
/// </summary>
public sealed class CustomProfileOptions
{
    /// <summary>The base used when none is given and the profile's name is not a built-in one.</summary>
    public const string DefaultBase = "optane-adr";

    // The default as an instance of its own: the configuration binder writes every property back,
    // with the instance it read when the configuration has no Base key, so only a set with another
    // instance (from configuration or code, even an equal string) is a Base given.
    private static readonly string DefaultBaseInstance = new(DefaultBase.AsSpan());

    private string _base = DefaultBaseInstance;

    /// <summary>
    /// The profile to start from. When it is not given: the built-in profile of the same name for a
    /// profile that redefines one (<c>Profiles:dram:Set:FenceNs</c> changes dram), otherwise optane-adr.
    /// </summary>
    public string Base
    {
        get => _base;
        set
        {
            BaseGiven |= !ReferenceEquals(value, _base);
            _base = value;
        }
    }

    /// <summary>Whether <see cref="Base"/> was set (by configuration or code) rather than left at its default.</summary>
    internal bool BaseGiven { get; private set; }

    /// <summary>Overrides: property name of <see cref="Cost.CostProfile"/> to value.</summary>
    public Dictionary<string, string> Set { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}
