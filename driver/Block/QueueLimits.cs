namespace DaxStack.Driver.Block;

/// <summary>
/// What a block device accepts and what it offers: capacity, block sizes, and which
/// operations and flags it supports.
/// </summary>
/// <remarks>Models the kernel's <c>struct queue_limits</c> plus the disk capacity and read-only flag.</remarks>
public sealed record QueueLimits
{
    /// <summary>Capacity in bytes (a multiple of <see cref="LogicalBlockSize"/>).</summary>
    public required long Capacity { get; init; }

    /// <summary>The smallest unit a request may address and be sized in: 512 or 4096.</summary>
    public required int LogicalBlockSize { get; init; }

    /// <summary>The device's natural write unit (4096 on pmem: a page).</summary>
    public int PhysicalBlockSize { get; init; } = 4096;

    /// <summary>Whether writes, discards and write-zeroes are refused (they fail with <see cref="BlkStatus.IoError"/>).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Whether the device has volatile state that a flush makes durable (true for pmem: unfenced write-backs).</summary>
    public bool WriteCache { get; init; } = true;

    /// <summary>Whether <see cref="BioFlags.Fua"/> is honoured natively.</summary>
    public bool Fua { get; init; } = true;

    /// <summary>Whether discard is supported.</summary>
    public bool Discard { get; init; } = true;

    /// <summary>Whether write-zeroes is supported.</summary>
    public bool WriteZeroes { get; init; } = true;

    /// <summary>Whether the device also offers DAX (direct access to its memory).</summary>
    public bool Dax { get; init; }

    /// <summary>Number of logical blocks.</summary>
    public long Blocks => Capacity / LogicalBlockSize;
}
