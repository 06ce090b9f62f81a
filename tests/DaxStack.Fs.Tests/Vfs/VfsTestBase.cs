using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;
using VfsTree = DaxStack.Fs.Vfs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

/// <summary>
/// Base of the VFS contract tests: a fresh tree with the filesystem under test at "/", a root
/// process, helpers to start unprivileged processes and to assert errnos.
/// </summary>
public abstract class VfsTestBase
{
    protected const uint Mode644 = 0x1A4;
    protected const uint Mode755 = 0x1ED;
    protected const uint Mode777 = 0x1FF;

    private readonly List<Process> _processes = new();

    protected VfsTestBase(FileSystemUnderTest fileSystem)
    {
        FileSystem = fileSystem;
    }

    protected FileSystemUnderTest FileSystem { get; }

    protected VfsTree Tree { get; private set; } = null!;

    /// <summary>A process with uid 0 and every capability.</summary>
    protected Process Root { get; private set; } = null!;

    private readonly List<IFileSystemType> _types = new();

    [SetUp]
    public void CreateTree()
    {
        Tree = new VfsTree(NewFileSystem());
        Root = Spawn(Credentials.Root);
    }

    [TearDown]
    public void DisposeProcesses()
    {
        foreach (var p in _processes)
        {
            p.Dispose();
        }

        _processes.Clear();
        Root.Dispose();
        // A filesystem on an emulated device (xfs) frees the device's memory.
        foreach (var type in _types)
        {
            (type as IDisposable)?.Dispose();
        }

        _types.Clear();
    }

    /// <summary>A new instance of the filesystem under test, released at the end of the test.</summary>
    protected IFileSystemType NewFileSystem()
    {
        var type = FileSystem.Create();
        _types.Add(type);
        return type;
    }

    protected Process Spawn(Credentials credentials)
    {
        var p = Tree.CreateProcess(credentials);
        _processes.Add(p);
        return p;
    }

    /// <summary>An unprivileged process.</summary>
    protected Process User(uint uid = 1000, uint gid = 1000) => Spawn(Credentials.User(uid, gid));

    /// <summary>The errno <paramref name="call"/> fails with; fails the test if it succeeds or throws anything else.</summary>
    protected static Errno ErrnoOf(TestDelegate call)
    {
        var ex = Assert.Catch<ErrnoException>(call);
        return ex!.Errno;
    }

    /// <summary>Makes a mode-0777 directory at <paramref name="path"/> for unprivileged processes to work in.</summary>
    protected void SharedDir(string path)
    {
        Root.Mkdir(path, Mode777);
        Root.Chmod(path, Mode777);
    }

    protected static void WriteFile(Process p, string path, ReadOnlySpan<byte> data, uint mode = Mode644)
    {
        int fd = p.Open(path, OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_TRUNC, mode);
        try
        {
            int n = p.Write(fd, data);
            Assert.That(n, Is.EqualTo(data.Length), $"write of {path}");
        }
        finally
        {
            p.Close(fd);
        }
    }

    protected static byte[] ReadFile(Process p, string path)
    {
        int fd = p.Open(path, OpenFlags.O_RDONLY);
        try
        {
            var buffer = new byte[p.Fstat(fd).Size];
            int n = p.Pread(fd, buffer, 0);
            Assert.That(n, Is.EqualTo(buffer.Length), $"read of {path}");
            return buffer;
        }
        finally
        {
            p.Close(fd);
        }
    }

    protected static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    protected static string[] Names(Process p, string dir) => p.ReadDirectory(dir).Select(e => e.Name).Order(StringComparer.Ordinal).ToArray();
}
