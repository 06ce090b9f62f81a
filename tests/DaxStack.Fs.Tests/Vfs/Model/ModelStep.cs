using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs.Model;

/// <summary>One generated system call with all its arguments; the same step runs on the model and on the filesystem.</summary>
internal sealed record ModelStep(
    ModelOp Op,
    string Path = "",
    string Path2 = "",
    int Fd = -1,
    int Flags = 0,
    long Offset = 0,
    long Length = 0,
    int Seed = 0,
    bool AsUser = false)
{
    public byte[] Data() => Pattern((int)Length, Seed);

    public static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public override string ToString() => (AsUser ? "user " : string.Empty) + Op switch
    {
        ModelOp.Chmod => $"chmod(\"{Path}\", 0{Convert.ToString(Flags, 8)})",
        ModelOp.Open => $"open(\"{Path}\", {(OpenFlags)Flags})",
        ModelOp.Creat => $"creat(\"{Path}\")",
        ModelOp.Rename => $"rename(\"{Path}\", \"{Path2}\", {(RenameFlags)Flags})",
        ModelOp.Link => $"link(\"{Path}\", \"{Path2}\")",
        ModelOp.Fallocate => $"fallocate({Fd}, {(FallocateFlags)Flags}, {Offset}, {Length})",
        ModelOp.Lseek => $"lseek({Fd}, {Offset}, {(SeekWhence)Flags})",
        ModelOp.Unlink or ModelOp.Mkdir or ModelOp.Rmdir or ModelOp.Readdir or ModelOp.Stat => $"{Op.ToString().ToLowerInvariant()}(\"{Path}\")",
        ModelOp.Truncate => $"truncate(\"{Path}\", {Length})",
        ModelOp.SetXattr => $"setxattr(\"{Path}\", \"{Path2}\", {Length} bytes, {Flags})",
        ModelOp.GetXattr or ModelOp.RemoveXattr => $"{Op.ToString().ToLowerInvariant()}(\"{Path}\", \"{Path2}\")",
        ModelOp.ListXattr => $"listxattr(\"{Path}\")",
        _ => $"{Op.ToString().ToLowerInvariant()}({Fd}, offset {Offset}, length {Length})",
    };
}
