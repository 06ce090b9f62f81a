using DaxStack.Device.Errors;

namespace DaxStack.Fs.Tests.Vfs.Model;

/// <summary>The reference model's way out of a call that fails with an errno.</summary>
internal sealed class ModelErrnoException(Errno errno) : Exception(errno.ToString())
{
    public Errno Errno { get; } = errno;
}
