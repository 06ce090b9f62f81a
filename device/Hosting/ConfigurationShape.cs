using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace DaxStack.Device.Hosting;

/// <summary>
/// Checks that a configuration section has the shape of the options class it binds to: one value
/// where a property takes one (a string, a number, an enum, a time span), keys where it takes a
/// section (an options class, a dictionary). The binder fails on either mistake with a message that
/// names a .NET type and not the key ("properties were not found on the instance of System.String: '0'");
/// this check names the key. Keys no property has are left to the binder (ErrorOnUnknownConfiguration).
/// </summary>
public static class ConfigurationShape
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first key of <paramref name="section"/> whose shape does not fit <paramref name="optionsType"/>.</summary>
    public static void Check(IConfigurationSection section, Type optionsType)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(optionsType);
        CheckProperties(section, optionsType);
    }

    private static void CheckProperties(IConfigurationSection section, Type type)
    {
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is { CanWrite: true })
                CheckValue(child, property.PropertyType);
        }
    }

    private static void CheckValue(IConfigurationSection section, Type type)
    {
        if (TakesOneValue(type))
        {
            if (section.GetChildren().Any())
                throw new InvalidOperationException($"{section.Path}: takes one value, not a list or a section");
            return;
        }
        // An empty JSON object reads as an empty value; null is no value at all.
        if (section.Value is { Length: > 0 } value)
            throw new InvalidOperationException($"{section.Path}: a section of settings, not one value ('{value}')");
        if (DictionaryValueType(type) is { } valueType)
        {
            foreach (var entry in section.GetChildren())
                CheckValue(entry, valueType);
        }
        else
            CheckProperties(section, type);
    }

    // What the binder converts from one string: strings and whatever has a converter from one.
    private static bool TakesOneValue(Type type) =>
        type == typeof(string) || TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    private static Type? DictionaryValueType(Type type) =>
        type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>) && i.GetGenericArguments()[0] == typeof(string))
            ?.GetGenericArguments()[1];
}
