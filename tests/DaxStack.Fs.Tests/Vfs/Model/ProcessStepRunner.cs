using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs.Model;

/// <summary>
/// Runs a <see cref="ModelStep"/> on the real stack through the root or the user
/// <see cref="Process"/> and reports it as a <see cref="ModelOutcome"/>; the user's descriptors
/// are closed at once.
/// </summary>
internal static class ProcessStepRunner
{
    public static ModelOutcome Run(Process root, Process user, ModelStep s)
    {
        var p = s.AsUser ? user : root;
        try
        {
            switch (s.Op)
            {
                case ModelOp.Open:
                case ModelOp.Creat:
                    int fd = s.Op == ModelOp.Open ? p.Open(s.Path, (OpenFlags)s.Flags, 0x1A4) : p.Creat(s.Path, 0x1A4);
                    if (s.AsUser)
                    {
                        p.Close(fd);
                    }

                    return ModelOutcome.Ok(fd);
                case ModelOp.Chmod:
                    p.Chmod(s.Path, (uint)s.Flags);
                    return ModelOutcome.Ok();
                case ModelOp.Close:
                    p.Close(s.Fd);
                    return ModelOutcome.Ok();
                case ModelOp.Write:
                    return ModelOutcome.Ok(p.Write(s.Fd, s.Data()));
                case ModelOp.Pwrite:
                    return ModelOutcome.Ok(p.Pwrite(s.Fd, s.Data(), s.Offset));
                case ModelOp.Read:
                case ModelOp.Pread:
                    var buffer = new byte[s.Length];
                    int n = s.Op == ModelOp.Read ? p.Read(s.Fd, buffer) : p.Pread(s.Fd, buffer, s.Offset);
                    return ModelOutcome.Ok(n, ModelOutcome.Hex(buffer.AsSpan(0, n)));
                case ModelOp.Lseek:
                    return ModelOutcome.Ok(p.Lseek(s.Fd, s.Offset, (SeekWhence)s.Flags));
                case ModelOp.Ftruncate:
                    p.Ftruncate(s.Fd, s.Length);
                    return ModelOutcome.Ok();
                case ModelOp.Truncate:
                    p.Truncate(s.Path, s.Length);
                    return ModelOutcome.Ok();
                case ModelOp.Fallocate:
                    p.Fallocate(s.Fd, (FallocateFlags)s.Flags, s.Offset, s.Length);
                    return ModelOutcome.Ok();
                case ModelOp.Fsync:
                    p.Fsync(s.Fd);
                    return ModelOutcome.Ok();
                case ModelOp.Unlink:
                    p.Unlink(s.Path);
                    return ModelOutcome.Ok();
                case ModelOp.Rename:
                    p.Rename(s.Path, s.Path2, (RenameFlags)s.Flags);
                    return ModelOutcome.Ok();
                case ModelOp.Mkdir:
                    p.Mkdir(s.Path, 0x1ED);
                    return ModelOutcome.Ok();
                case ModelOp.Rmdir:
                    p.Rmdir(s.Path);
                    return ModelOutcome.Ok();
                case ModelOp.Link:
                    p.Link(s.Path, s.Path2);
                    return ModelOutcome.Ok();
                case ModelOp.Readdir:
                    var entries = p.ReadDirectory(s.Path);
                    return ModelOutcome.Ok(entries.Count, Listing(entries));
                case ModelOp.Stat:
                    var st = p.Stat(s.Path);
                    return ModelOutcome.Ok(st.IsDirectory ? 0 : st.Size, $"{(st.IsDirectory ? 'd' : 'f')} nlink {st.Nlink}");
                case ModelOp.SetXattr:
                    p.SetXattr(s.Path, s.Path2, s.Data(), (XattrFlags)s.Flags);
                    return ModelOutcome.Ok();
                case ModelOp.GetXattr:
                    var value = p.GetXattrValue(s.Path, s.Path2);
                    return ModelOutcome.Ok(value.Length, ModelOutcome.Hex(value));
                case ModelOp.RemoveXattr:
                    p.RemoveXattr(s.Path, s.Path2);
                    return ModelOutcome.Ok();
                case ModelOp.ListXattr:
                    var names = p.ListXattrNames(s.Path).Order(StringComparer.Ordinal).ToList();
                    return ModelOutcome.Ok(names.Count, string.Join(',', names));
                default:
                    throw new ArgumentOutOfRangeException(nameof(s));
            }
        }
        catch (ErrnoException e)
        {
            return ModelOutcome.Fail(e.Errno);
        }
    }

    /// <summary>The listing in the model's "name:type" form.</summary>
    public static string Listing(IEnumerable<DirEntry> entries) =>
        string.Join(',', entries.Select(e => $"{e.Name}:{(e.Type == DirentType.DT_DIR ? 'd' : 'f')}").Order(StringComparer.Ordinal));
}
