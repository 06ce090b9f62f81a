namespace DaxStack.Driver.Dax;

/// <summary>Why a caller asks for direct access.</summary>
/// <remarks>Models the kernel's <c>enum dax_access_mode</c>.</remarks>
public enum DaxAccessMode : byte
{
    /// <summary>Ordinary access: a range holding poison is refused with EIO.</summary>
    Access,

    /// <summary>The caller will overwrite the range with <see cref="IDaxOperations.RecoveryWrite"/>: poisoned pages are handed out.</summary>
    RecoveryWrite,
}
