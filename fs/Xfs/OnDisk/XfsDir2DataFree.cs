namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>A free region of a directory data block, as the bestfree table and unused entries describe it.</summary>
/// <remarks>Models the kernel's <c>xfs_dir2_data_free_t</c> (offset, length) and <c>xfs_dir2_data_unused_t</c>.</remarks>
/// <param name="Offset">Byte offset of the region in the block.</param>
/// <param name="Length">Bytes in the region (a multiple of 8); 0 for an empty bestfree slot.</param>
public readonly record struct XfsDir2DataFree(int Offset, int Length)
{
    /// <summary>The first byte after the region.</summary>
    public int End => Offset + Length;
}
