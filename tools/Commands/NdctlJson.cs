using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Persistence;

namespace DaxStack.Tools.Commands;

/// <summary>
/// The JSON objects <c>ndctl list</c>, <c>create-namespace</c> and <c>inject-error</c> print for
/// namespaces, regions and bad blocks, with ndctl's field names and order. Sizes become strings
/// such as <c>"2.00 GiB (2.15 GB)"</c> with --human.
/// </summary>
/// <remarks>Models ndctl's <c>util_namespace_to_json</c>, <c>region_to_json</c> and <c>util_display_json_array</c>.</remarks>
public static class NdctlJson
{
    private static readonly JsonSerializerOptions Pretty = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>A namespace: dev, mode, map, size, uuid, sector_size, align, blockdev or chardev, name, badblock_count, badblocks.</summary>
    public static JsonObject Namespace(BusRegion region, NvdimmNamespace ns, bool mediaErrors, bool human)
    {
        var o = new JsonObject
        {
            ["dev"] = ns.Name,
            ["mode"] = ns.Mode.ToName(),
        };
        if (ns.Map != MemmapLocation.None)
            o["map"] = ns.Map == MemmapLocation.Dev ? "dev" : "mem";
        o["size"] = Size(ns.Size, human);
        if (ns.Uuid is { } uuid)
            o["uuid"] = uuid.ToString("D");
        if (ns.SectorSize != 0)
            o["sector_size"] = ns.SectorSize;
        if (ns.Mode is NamespaceMode.Fsdax or NamespaceMode.Devdax)
            o["align"] = ns.Align;
        if (ns.BlockDevice is { } blockdev)
            o["blockdev"] = blockdev;
        if (ns.CharDevice is { } chardev)
            o["chardev"] = chardev;
        if (ns.FriendlyName.Length > 0)
            o["name"] = ns.FriendlyName;
        AddBadBlocks(o, region.BadBlocks(ns), mediaErrors);
        return o;
    }

    /// <summary>A region: dev, size, align, available_size, max_available_extent, type, badblock_count, badblocks, persistence_domain.</summary>
    public static JsonObject Region(BusRegion region, bool mediaErrors, bool human)
    {
        var o = new JsonObject
        {
            ["dev"] = region.Name,
            ["size"] = Size(region.Region.Size, human),
            ["align"] = Size(NamespaceAlignment.Page, human),
            ["available_size"] = Size(region.AvailableSize, human),
            ["max_available_extent"] = Size(region.MaxAvailableExtent, human),
            ["type"] = "pmem",
        };
        AddBadBlocks(o, region.BadBlocks(), mediaErrors);
        o["persistence_domain"] = region.Region.Domain == PersistenceDomain.Eadr ? "cpu_cache" : "memory_controller";
        return o;
    }

    /// <summary><c>inject-error --status</c>: <c>{"badblocks":[{"block":N,"count":N}]}</c>.</summary>
    public static JsonObject InjectionStatus(IReadOnlyList<BadBlock> bad) =>
        new() { ["badblocks"] = new JsonArray([.. bad.Select(b => (JsonNode)new JsonObject { ["block"] = b.Block, ["count"] = b.Count })]) };

    /// <summary>
    /// Prints a list as ndctl does: nothing when empty; the lone object when there is one and
    /// output is human-readable; otherwise the array.
    /// </summary>
    public static void WriteList(TextWriter output, IReadOnlyList<JsonObject> items, bool human)
    {
        if (items.Count == 0)
            return;
        if (items.Count == 1 && human)
            Write(output, items[0]);
        else
            Write(output, new JsonArray([.. items]));
    }

    /// <summary>Prints one JSON value, indented, followed by a newline.</summary>
    public static void Write(TextWriter output, JsonNode node) => output.WriteLine(node.ToJsonString(Pretty));

    private static JsonNode Size(long bytes, bool human) =>
        human && bytes >= NdctlSizes.HumanThreshold ? JsonValue.Create(NdctlSizes.Human(bytes)) : JsonValue.Create(bytes);

    private static void AddBadBlocks(JsonObject o, IReadOnlyList<BadBlock> bad, bool mediaErrors)
    {
        long count = bad.Sum(b => b.Count);
        if (count == 0)
            return;
        o["badblock_count"] = count;
        if (mediaErrors)
            o["badblocks"] = new JsonArray([.. bad.Select(b => (JsonNode)new JsonObject { ["offset"] = b.Block, ["length"] = b.Count })]);
    }
}
