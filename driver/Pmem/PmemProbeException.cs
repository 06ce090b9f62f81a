using DaxStack.Device.Errors;

namespace DaxStack.Driver.Pmem;

/// <summary>A namespace the driver cannot attach to, with the errno the kernel's probe would give.</summary>
public sealed class PmemProbeException(Errno errno, string message) : Exception(message)
{
    /// <summary>Why the probe failed.</summary>
    public Errno Errno { get; } = errno;
}
