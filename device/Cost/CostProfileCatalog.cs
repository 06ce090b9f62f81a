using System.Globalization;
using System.Reflection;
using DaxStack.Device.Hosting;
using DaxStack.Device.Persistence;

namespace DaxStack.Device.Cost;

/// <summary>The cost profiles available: the built-in ones plus those defined in configuration.</summary>
public sealed class CostProfileCatalog
{
    private readonly Dictionary<string, CostProfile> _profiles = new(StringComparer.OrdinalIgnoreCase);

    public CostProfileCatalog(NvdimmOptions options)
    {
        foreach (var p in CostProfiles.BuiltIn)
            _profiles[p.Name] = p;
        foreach (var (name, custom) in options.Profiles)
            _profiles[name] = Build(name, custom);
        Default = Get(options.Profile);
    }

    /// <summary>The profile named by <see cref="NvdimmOptions.Profile"/>.</summary>
    public CostProfile Default { get; }

    /// <summary>Every known profile.</summary>
    public IReadOnlyCollection<CostProfile> All => _profiles.Values;

    /// <summary>The profile called <paramref name="name"/>; throws naming the known ones if there is none.</summary>
    public CostProfile Get(string name) =>
        _profiles.TryGetValue(name, out var p)
            ? p
            : throw new KeyNotFoundException($"unknown cost profile '{name}' (known: {string.Join(", ", _profiles.Keys.Order())})");

    private CostProfile Build(string name, CustomProfileOptions custom)
    {
        if (!_profiles.TryGetValue(custom.Base, out var baseProfile))
            throw new InvalidOperationException($"cost profile '{name}': unknown base profile '{custom.Base}'");
        var profile = baseProfile with { Name = name };
        foreach (var (key, value) in custom.Set)
        {
            var prop = typeof(CostProfile).GetProperty(key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (prop == null || prop.Name == nameof(CostProfile.Name) || !prop.CanWrite)
                throw new InvalidOperationException($"cost profile '{name}': '{key}' is not a cost profile setting");
            object parsed;
            try
            {
                parsed = prop.PropertyType == typeof(PersistenceDomain)
                    ? Enum.Parse<PersistenceDomain>(value, ignoreCase: true)
                    : Convert.ChangeType(value, prop.PropertyType, CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidCastException or OverflowException)
            {
                throw new InvalidOperationException($"cost profile '{name}': '{value}' is not a valid value for {prop.Name}", e);
            }
            prop.SetValue(profile, parsed);
        }
        try
        {
            profile.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"cost profile '{name}': {e.Message}", e);
        }
        return profile;
    }
}
