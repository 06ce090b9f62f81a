using DaxStack.Fs.Ramfs;

namespace DaxStack.Fs.Tests.Vfs;

/// <summary>
/// The filesystems every VFS contract test class runs against (its <c>TestFixtureSource</c>).
/// Add an entry here to run the whole suite, the model-based test included, on another filesystem.
/// </summary>
public static class VfsFileSystems
{
    /// <summary>Every filesystem under test.</summary>
    public static IEnumerable<FileSystemUnderTest> All()
    {
        yield return new FileSystemUnderTest("ramfs", () => new RamfsFileSystemType());
        yield return new FileSystemUnderTest("xfs", () => new XfsTestFileSystemType());
    }

    /// <summary>Filesystems whose FICLONE works, for the remap tests that get past the EOPNOTSUPP check.</summary>
    public static IEnumerable<FileSystemUnderTest> Cloning()
    {
        yield return new FileSystemUnderTest("ramfs-clone-by-copy", () => new RamfsFileSystemType(new RamfsOptions { CloneByCopy = true }));
        yield return new FileSystemUnderTest("xfs", () => new XfsTestFileSystemType());
    }
}
