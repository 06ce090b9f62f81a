namespace DaxStack.Driver.Block;

/// <summary>Modifiers of a <see cref="Bio"/>.</summary>
/// <remarks>Models the kernel's <c>REQ_FUA</c> and <c>REQ_PREFLUSH</c> request flags.</remarks>
[Flags]
public enum BioFlags : byte
{
    /// <summary>No modifier.</summary>
    None = 0,

    /// <summary>Force unit access: the bio's data is durable when it completes.</summary>
    Fua = 1,

    /// <summary>Flush the device's volatile state before the bio's own data is written.</summary>
    PreFlush = 2,
}
