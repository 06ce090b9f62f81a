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
        // A custom profile may start from another one: build each after its base, whatever the order.
        var building = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var built = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in options.Profiles.Keys)
            BuildWithBase(name, options.Profiles, building, built);
        Default = Get(options.Profile);
    }

    private const string FailedProfileKey = "DaxStack.CostProfile";

    /// <summary>
    /// What is wrong with the cost profiles <paramref name="options"/> configure (an unknown
    /// <see cref="NvdimmOptions.Profile"/>, a custom profile that cannot be built), prefixed with
    /// the configuration key at fault; null when a catalog can be made from them. A host checks it
    /// as it starts; a program that resolves the catalog without starting its host (a short
    /// command-line tool) can ask it first, to report the key rather than the catalog's exception.
    /// </summary>
    public static string? ConfigurationProblem(NvdimmOptions options)
    {
        try
        {
            _ = new CostProfileCatalog(options);
            return null;
        }
        catch (KeyNotFoundException e)
        {
            return $"{NvdimmOptions.SectionName}:{nameof(NvdimmOptions.Profile)}: {e.Message}";
        }
        catch (InvalidOperationException e)
        {
            string key = $"{NvdimmOptions.SectionName}:{nameof(NvdimmOptions.Profiles)}";
            if (e.Data[FailedProfileKey] is string name && !string.IsNullOrWhiteSpace(name))
                key += ":" + name;
            return $"{key}: {e.Message}";
        }
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

    private void BuildWithBase(string name, Dictionary<string, CustomProfileOptions> customs, HashSet<string> building, HashSet<string> built)
    {
        if (built.Contains(name))
            return;
        // Nvdimm:Profile could not name it, and output would show nothing where its name goes.
        if (string.IsNullOrWhiteSpace(name))
            throw new InvalidOperationException($"cost profile '{name}': a profile's name must not be empty or blank");
        if (!building.Add(name))
            throw new InvalidOperationException($"cost profile '{name}': its Base profiles form a cycle ({string.Join(" -> ", building)} -> {name})");
        var custom = customs[name];
        // A profile may redefine a built-in one from itself; any other base that is configured is built first.
        if (BaseOf(name, custom) is { } b && !string.Equals(b, name, StringComparison.OrdinalIgnoreCase) && customs.ContainsKey(b))
            BuildWithBase(customs.Keys.First(k => string.Equals(k, b, StringComparison.OrdinalIgnoreCase)), customs, building, built);
        try
        {
            _profiles[name] = Build(name, custom);
        }
        catch (InvalidOperationException e)
        {
            // The configuration key of the profile at fault, for ConfigurationProblem.
            e.Data[FailedProfileKey] = name;
            throw;
        }
        building.Remove(name);
        built.Add(name);
    }

    // What a custom profile's Set may name: CostProfile's settable properties but its Name.
    private static readonly string[] Settings =
        [.. typeof(CostProfile).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.Name != nameof(CostProfile.Name)).Select(p => p.Name)];

    // The Base given, or, when none is, the built-in profile a profile of that name redefines
    // (Profiles:dram:Set:FenceNs changes dram, not an optane-adr copy called dram), else optane-adr.
    private static string? BaseOf(string name, CustomProfileOptions custom) =>
        !custom.BaseGiven && CostProfiles.Find(name) is { } builtIn ? builtIn.Name : custom.Base;

    private CostProfile Build(string name, CustomProfileOptions custom)
    {
        if (BaseOf(name, custom) is not { } baseName || !_profiles.TryGetValue(baseName, out var baseProfile))
            throw new InvalidOperationException($"cost profile '{name}': unknown base profile '{custom.Base}'");
        var profile = baseProfile with { Name = name };
        foreach (var (key, value) in custom.Set)
        {
            var prop = typeof(CostProfile).GetProperty(key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (prop == null || prop.Name == nameof(CostProfile.Name) || !prop.CanWrite)
                throw new InvalidOperationException($"cost profile '{name}': '{key}' is not a cost profile setting (the settings: {string.Join(", ", Settings)})");
            object parsed;
            try
            {
                parsed = prop.PropertyType == typeof(PersistenceDomain)
                    ? ParseDomain(value)
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
            // The message already names the profile: "cost profile 'NAME': SETTING ...".
            throw new InvalidOperationException(e.Message, e);
        }
        return profile;
    }

    // Only the names (any case): Enum.Parse would also take numbers ("3") and lists ("Adr, Eadr").
    private static PersistenceDomain ParseDomain(string? value) =>
        Enum.GetValues<PersistenceDomain>().Cast<PersistenceDomain?>()
            .FirstOrDefault(d => string.Equals(d.ToString(), value?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new FormatException($"'{value}' is not Adr or Eadr");
}
