namespace DaxStack.Driver.Block;

/// <summary>
/// Modifiers of a <see cref="Bio"/>. Both concern written data, so only a write may carry them
/// (<see cref="BioOp.Write"/>, or <see cref="BioOp.Flush"/>, the empty write that flushes): a
/// read, discard or write-zeroes bio with either fails with <see cref="BlkStatus.IoError"/> (EIO)
/// and does nothing, as the block layer's <c>submit_bio_noacct</c> fails it. A caller that wants a
/// discard or write-zeroes durable submits it without flags and then a flush.
/// </summary>
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
