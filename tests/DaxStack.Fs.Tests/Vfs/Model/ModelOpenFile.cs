using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs.Model;

/// <summary>An open descriptor in the reference model.</summary>
internal sealed class ModelOpenFile(ModelNode node, bool canRead, bool canWrite, bool append)
{
    public ModelNode Node { get; } = node;

    public bool CanRead { get; } = canRead;

    public bool CanWrite { get; } = canWrite;

    public bool Append { get; } = append;

    public long Pos { get; set; }

    public static ModelOpenFile From(ModelNode node, OpenFlags flags)
    {
        var acc = flags & OpenFlags.O_ACCMODE;
        return new ModelOpenFile(node, acc != OpenFlags.O_WRONLY, acc != OpenFlags.O_RDONLY, (flags & OpenFlags.O_APPEND) != 0);
    }
}
