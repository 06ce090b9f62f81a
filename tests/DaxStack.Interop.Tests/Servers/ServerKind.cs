namespace DaxStack.Interop.Tests.Servers;

/// <summary>
/// Which NBD server a contract test runs against: ours, or the reference server the same
/// assertions are first proven on. The NBD equivalent of a device-kind test parameter.
/// </summary>
public enum ServerKind
{
    /// <summary><c>daxstack serve</c> exporting a plain image file as one raw pmem namespace.</summary>
    Daxstack,

    /// <summary>
    /// <c>nbdkit memory</c>, configured (exportname and blocksize-policy filters) to advertise the
    /// export name and block sizes daxstack promises, so the same assertions apply unchanged.
    /// </summary>
    NbdkitMemory,
}
