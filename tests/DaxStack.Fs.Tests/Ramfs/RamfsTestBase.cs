using DaxStack.Device.Errors;
using DaxStack.Fs.Ramfs;
using DaxStack.Fs.Vfs;
using VfsTree = DaxStack.Fs.Vfs.Vfs;

namespace DaxStack.Fs.Tests.Ramfs;

/// <summary>A tree with one ramfs of chosen options at "/" and a root process.</summary>
public abstract class RamfsTestBase
{
    protected const uint Mode644 = 0x1A4;
    protected const uint Mode755 = 0x1ED;

    protected RamfsSuper Super { get; private set; } = null!;

    protected Process Root { get; private set; } = null!;

    [TearDown]
    public void DisposeRoot() => Root?.Dispose();

    protected Process Mount(RamfsOptions options)
    {
        var type = new RamfsFileSystemType(options);
        var tree = new VfsTree(type);
        Super = type.LastMounted!;
        Root = tree.CreateProcess(Credentials.Root);
        return Root;
    }

    protected static Errno ErrnoOf(TestDelegate call) => Assert.Throws<ErrnoException>(call)!.Errno;
}
