using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

/// <summary>A filesystem the VFS contract tests run against: a name for the test list and a factory of fresh instances.</summary>
public sealed record FileSystemUnderTest(string Name, Func<IFileSystemType> Create)
{
    public override string ToString() => Name;
}
