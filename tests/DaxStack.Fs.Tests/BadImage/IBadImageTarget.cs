using DaxStack.Fs.Xfs;

namespace DaxStack.Fs.Tests.BadImage;

/// <summary>One metadata structure of the populated image that the bad-image suite damages.</summary>
/// <remarks>Models one field-group of xfs_db's type list that fstests' xfs/ fuzz tests corrupt (sb, agf, agi, agfl, the AG B+trees, inode, bmbt, dir blocks, log).</remarks>
internal interface IBadImageTarget
{
    /// <summary>The test case name.</summary>
    string Name { get; }

    /// <summary>
    /// Where the structure lies in the image (a byte to flip inside it) and the name errors must
    /// use for it (the <see cref="DaxStack.Fs.Xfs.OnDisk.XfsCorruptionException.Structure"/> prefix).
    /// </summary>
    /// <summary>
    /// Whether <see cref="DaxStack.Fs.Xfs.Repair.XfsChecker"/> verifies the structure (block, leaf
    /// and node directory blocks need a directory verifier it does not have yet).
    /// </summary>
    bool CheckerVerifies { get; }

    /// <summary>
    /// Whether the damage is indistinguishable from a torn last log write, which mount must
    /// tolerate (the head moves back to the last intact record) rather than refuse.
    /// </summary>
    bool TornWrite { get; }

    (long Offset, string Structure) Locate(XfsMetadataReader reader, PopulatedImage image);

    /// <summary>How the checker names the damaged structure when it differs from the filesystem's name (directories: "directory INO"); null when it is the same.</summary>
    string? CheckerStructure(PopulatedImage image);
}
