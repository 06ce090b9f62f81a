using DaxStack.Device.Errors;
namespace DaxStack.Device.Namespaces;

/// <summary>
/// Reads and atomically replaces the small files kept beside an image (labels, badblocks), and
/// turns file-system failures into <see cref="NamespaceException"/>s naming the file.
/// </summary>
internal static class SideFile
{
    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="contents"/> so that a reader (or a crash)
    /// sees either the old file or the new one, never a mix: write a temporary file in the same
    /// directory, flush it to disk, then rename it over the old one (rename(2) is atomic).
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> contents, string what)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(contents);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw Failure(e, $"cannot write {what} '{path}'");
        }
    }

    /// <summary>Removes <paramref name="path"/> if it exists.</summary>
    public static void Delete(string path, string what)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(e, $"cannot remove {what} '{path}'");
        }
    }

    /// <summary>The whole of <paramref name="path"/>, or null if it does not exist. Larger than <paramref name="maxBytes"/> is corrupt.</summary>
    public static byte[]? ReadIfExists(string path, long maxBytes, string what)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (fs.Length > maxBytes)
                throw new NamespaceException(Errno.EIO, $"{what} '{path}' is corrupt: {fs.Length} bytes, more than the {maxBytes} a valid one can hold");
            var bytes = new byte[fs.Length];
            fs.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(e, $"cannot read {what} '{path}'");
        }
    }

    /// <summary>The exception for a failed file-system call: EACCES for permissions, EIO otherwise.</summary>
    public static NamespaceException Failure(Exception e, string detail) =>
        new(e is UnauthorizedAccessException ? Errno.EACCES : Errno.EIO, $"{detail}: {e.Message}", e);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The temporary file is hidden and harmless; the original failure is what matters.
        }
    }
}
