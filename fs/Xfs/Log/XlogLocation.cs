using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// Where the internal log lives on the device: its first byte, its length in 512-byte basic
/// blocks (the unit of log block numbers and LSNs) and the filesystem uuid every record
/// header carries in h_fs_uuid.
/// </summary>
/// <remarks>Models the kernel's <c>l_logBBstart</c> / <c>l_logBBsize</c> of <c>struct xlog</c>, set from <c>sb_logstart</c> and <c>sb_logblocks</c>.</remarks>
/// <param name="Offset">Byte offset of log block 0 on the device.</param>
/// <param name="Blocks">Log length in basic blocks (512 bytes).</param>
/// <param name="Uuid">sb_uuid, written into every record header.</param>
public readonly record struct XlogLocation(long Offset, uint Blocks, Guid Uuid)
{
    /// <summary>The internal log of a filesystem with geometry <paramref name="geometry"/> and uuid <paramref name="uuid"/>.</summary>
    public static XlogLocation FromGeometry(XfsGeometry geometry, Guid uuid) =>
        new(geometry.LogOffset, geometry.LogBlocks << (geometry.BlockLog - XfsFormat.BasicBlockShift), uuid);

    /// <summary>Byte offset of log block <paramref name="block"/> on the device.</summary>
    public long BlockOffset(uint block) => Offset + ((long)block << XfsFormat.BasicBlockShift);
}
