using DaxStack.Fs.Xfs;

namespace DaxStack.Fs.Tests.BadImage;

/// <summary>A bad-image target found by a function of the image's metadata.</summary>
/// <remarks>Models an xfs_db "fuzz" target: a structure addressed by a path from the superblock.</remarks>
internal sealed record MetadataTarget(string Name, Func<XfsMetadataReader, PopulatedImage, (long Offset, string Structure)> Locator, bool CheckerVerifies = true, bool TornWrite = false, Func<PopulatedImage, string>? CheckerName = null) : IBadImageTarget
{
    public (long Offset, string Structure) Locate(XfsMetadataReader reader, PopulatedImage image) => Locator(reader, image);

    public string? CheckerStructure(PopulatedImage image) => CheckerName?.Invoke(image);

    public override string ToString() => Name;
}
