namespace DaxStack.Fs.Vfs;

/// <summary>One extent of a FIEMAP reply: file offset, device offset and length in bytes, flags.</summary>
/// <remarks>Models <c>struct fiemap_extent</c> (<c>fe_logical</c>, <c>fe_physical</c>, <c>fe_length</c>, <c>fe_flags</c>).</remarks>
public readonly record struct FiemapExtent(long Logical, long Physical, long Length, FiemapExtentFlags Flags);
