namespace DaxStack.Driver.Block;

/// <summary>What a <see cref="Bio"/> asks of the device.</summary>
/// <remarks>Models the kernel's <c>enum req_op</c> (REQ_OP_READ, REQ_OP_WRITE, REQ_OP_FLUSH, REQ_OP_DISCARD, REQ_OP_WRITE_ZEROES).</remarks>
public enum BioOp : byte
{
    /// <summary>Read <see cref="Bio.Size"/> bytes into the bio's buffers.</summary>
    Read,

    /// <summary>Write the bio's buffers. Durable only after a later flush, or at completion with <see cref="BioFlags.Fua"/>.</summary>
    Write,

    /// <summary>Make every write completed before it durable (an empty flush bio).</summary>
    Flush,

    /// <summary>The range's contents are no longer needed; on pmem it reads back as zeroes afterwards.</summary>
    Discard,

    /// <summary>Write zeroes to the range without a data buffer.</summary>
    WriteZeroes,
}
