using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs;

/// <summary>
/// Reads and verifies XFS metadata from a block device: the primary superblock (once, for the
/// geometry), and on request any AG's superblock, AGF, AGI, AGFL, B+tree block or inode. Each
/// read checks the structure itself (magic, CRC, fields) and its place in the filesystem
/// (uuid, AG number and length, self address); a failure is an <see cref="XfsCorruptionException"/>
/// naming the structure, an I/O error an <see cref="XfsException"/> with EIO.
/// </summary>
/// <remarks>Models the read side of the kernel's buffer cache with verifiers (<c>xfs_trans_read_buf</c> with <c>xfs_sb_buf_ops</c>, <c>xfs_agf_buf_ops</c>, ...) and <c>xfs_imap_to_bp</c> / <c>xfs_inode_from_disk</c>.</remarks>
public sealed class XfsMetadataReader
{
    private XfsMetadataReader(IBlockDeviceOperations device, XfsSuperblock sb, XfsCorruptionException? primaryError)
    {
        Device = device;
        Superblock = sb;
        Geometry = new XfsGeometry(sb);
        PrimaryError = primaryError;
    }

    /// <summary>The device read from.</summary>
    public IBlockDeviceOperations Device { get; }

    /// <summary>The primary superblock.</summary>
    public XfsSuperblock Superblock { get; }

    /// <summary>The geometry the primary superblock describes.</summary>
    public XfsGeometry Geometry { get; }

    /// <summary>
    /// Why the primary superblock failed verification, when the reader was opened with
    /// <c>trustPrimary: true</c> and it did; null when it verified.
    /// </summary>
    public XfsCorruptionException? PrimaryError { get; }

    /// <summary>
    /// Opens the filesystem on <paramref name="device"/> by reading its primary superblock.
    /// Throws <see cref="XfsCorruptionException"/> when the superblock does not verify, unless
    /// <paramref name="trustPrimary"/> (for inspection tools) and it at least has XFS's magic
    /// number and a usable geometry; the failure is then in <see cref="PrimaryError"/>.
    /// </summary>
    public static XfsMetadataReader Open(IBlockDeviceOperations device, bool trustPrimary = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        var sector = Read(device, 0, XfsFormat.SectorSize, "sb 0");
        try
        {
            var sb = XfsSuperblock.ReadFrom(sector);
            if (sb.SectSize != XfsFormat.SectorSize)
                throw new XfsCorruptionException("sb 0", $"sector size {sb.SectSize}: only {XfsFormat.SectorSize}-byte sectors are supported");
            if ((long)sb.DataBlocks * sb.BlockSize > device.Limits.Capacity)
                throw new XfsCorruptionException("sb 0", $"filesystem of {sb.DataBlocks} blocks is larger than the {device.Limits.Capacity}-byte device");
            return new XfsMetadataReader(device, sb, null);
        }
        catch (XfsCorruptionException e) when (trustPrimary && Be.U32(sector, 0) == XfsMagic.Superblock)
        {
            var sb = XfsSuperblock.Decode(sector);
            if (!PlausibleGeometry(sb))
                throw;
            return new XfsMetadataReader(device, sb, e);
        }
    }

    private static bool PlausibleGeometry(XfsSuperblock sb) =>
        sb.BlockSize is >= 512 and <= 65536 && sb.BlockSize == 1u << sb.BlockLog && sb.SectSize == XfsFormat.SectorSize
        && sb.InodeSize is >= 256 and <= 2048 && sb.InodeSize == 1 << sb.InodeLog && sb.InoPBLog == sb.BlockLog - sb.InodeLog
        && sb.AgCount > 0 && sb.AgBlocks > 0 && sb.AgBlkLog is > 0 and < 32 && sb.DataBlocks > (ulong)(sb.AgCount - 1) * sb.AgBlocks;

    /// <summary>The superblock copy in AG <paramref name="agno"/>, checked against the primary's geometry.</summary>
    public XfsSuperblock ReadSuperblock(uint agno)
    {
        string name = $"sb {agno}";
        CheckAg(agno, name);
        var sb = XfsSuperblock.ReadFrom(ReadSector(agno, 0, name), agno);
        if (sb.BlockSize != Superblock.BlockSize || sb.DataBlocks != Superblock.DataBlocks || sb.AgBlocks != Superblock.AgBlocks
            || sb.AgCount != Superblock.AgCount || sb.Uuid != Superblock.Uuid || sb.LogStart != Superblock.LogStart
            || sb.LogBlocks != Superblock.LogBlocks || sb.InodeSize != Superblock.InodeSize)
            throw new XfsCorruptionException(name, "geometry differs from the primary superblock");
        return sb;
    }

    /// <summary>The AGF of AG <paramref name="agno"/>.</summary>
    public XfsAgf ReadAgf(uint agno)
    {
        string name = $"agf {agno}";
        CheckAg(agno, name);
        var agf = XfsAgf.ReadFrom(ReadSector(agno, 1, name), agno, Geometry.AgflSize);
        CheckOwner(name, agf.Uuid, agf.Length, agno);
        return agf;
    }

    /// <summary>The AGI of AG <paramref name="agno"/>.</summary>
    public XfsAgi ReadAgi(uint agno)
    {
        string name = $"agi {agno}";
        CheckAg(agno, name);
        var agi = XfsAgi.ReadFrom(ReadSector(agno, 2, name), agno);
        CheckOwner(name, agi.Uuid, agi.Length, agno);
        return agi;
    }

    /// <summary>The AGFL of AG <paramref name="agno"/>.</summary>
    public XfsAgfl ReadAgfl(uint agno)
    {
        string name = $"agfl {agno}";
        CheckAg(agno, name);
        uint length = Geometry.AgLength(agno);
        var agfl = XfsAgfl.ReadFrom(ReadSector(agno, 3, name), agno, length);
        if (agfl.Uuid != Superblock.MetadataUuid)
            throw new XfsCorruptionException(name, $"uuid {agfl.Uuid} is not the filesystem's {Superblock.MetadataUuid}");
        return agfl;
    }

    /// <summary>
    /// The header of the <paramref name="kind"/> B+tree block at AG block <paramref name="agbno"/>
    /// of AG <paramref name="agno"/>; the whole block is copied into <paramref name="block"/>
    /// (one filesystem block) for the caller to read records from.
    /// </summary>
    public XfsBtreeShortBlock ReadBtreeBlock(XfsBtreeKind kind, uint agno, uint agbno, Span<byte> block)
    {
        string name = $"{kind.Name()} block {agno}/{agbno}";
        CheckAg(agno, name);
        if (agbno == 0 || agbno >= Geometry.AgLength(agno))
            throw new XfsCorruptionException(name, $"block outside the AG (length {Geometry.AgLength(agno)})");
        if (block.Length != Geometry.BlockSize)
            throw new ArgumentException($"a {Geometry.BlockSize}-byte buffer is needed", nameof(block));
        var bytes = Read(Device, Geometry.AgBlockOffset(agno, agbno), Geometry.BlockSize, name);
        var header = XfsBtreeShortBlock.ReadFrom(bytes, kind, agno, agbno, Geometry.AgBlockToDaddr(agno, agbno));
        if (header.Uuid != Superblock.MetadataUuid)
            throw new XfsCorruptionException(name, $"uuid {header.Uuid} is not the filesystem's {Superblock.MetadataUuid}");
        bytes.CopyTo(block);
        return header;
    }

    /// <summary>Inode <paramref name="ino"/>; EINVAL when the number cannot name an inode of this filesystem.</summary>
    public XfsDinode ReadInode(ulong ino)
    {
        string name = $"inode {ino}";
        var bytes = ReadInodeBytes(ino);
        var inode = XfsDinode.ReadFrom(bytes, ino);
        if (inode.Uuid != Superblock.MetadataUuid)
            throw new XfsCorruptionException(name, $"uuid {inode.Uuid} is not the filesystem's {Superblock.MetadataUuid}");
        return inode;
    }

    /// <summary>The raw bytes of inode <paramref name="ino"/>, unverified (for inspection tools).</summary>
    public byte[] ReadInodeBytes(ulong ino)
    {
        string name = $"inode {ino}";
        if (!Geometry.IsValidIno(ino))
            throw new XfsException(Errno.EINVAL, $"{name}: not an inode number of this filesystem");
        return Read(Device, Geometry.InodeOffset(ino), Geometry.InodeSize, name);
    }

    /// <summary>The raw filesystem block <paramref name="fsb"/>, unverified (for inspection tools); EUCLEAN when the number names no block of this filesystem.</summary>
    public byte[] ReadFsBlock(ulong fsb, string what)
    {
        if (!Geometry.IsValidFsb(fsb))
            throw new XfsCorruptionException(what, $"block {fsb} is not a block of this filesystem");
        return Read(Device, Geometry.FsbToOffset(fsb), Geometry.BlockSize, what);
    }

    /// <summary>The raw sector <paramref name="sector"/> (0 sb, 1 AGF, 2 AGI, 3 AGFL) of AG <paramref name="agno"/>, unverified.</summary>
    public byte[] ReadSector(uint agno, int sector, string what)
    {
        CheckAg(agno, what);
        return Read(Device, Geometry.AgHeaderOffset(agno, sector), Geometry.SectorSize, what);
    }

    /// <summary>The first record of the internal log, which must be an unmount record (the log mkfs writes).</summary>
    public XlogUnmountRecord ReadLogHead()
    {
        var bytes = Read(Device, Geometry.LogOffset, XlogUnmountRecord.Size, "log");
        var record = XlogUnmountRecord.ReadFrom(bytes, 0);
        if (record.Header.FsUuid != Superblock.Uuid)
            throw new XfsCorruptionException("log record at block 0", $"uuid {record.Header.FsUuid} is not the filesystem's {Superblock.Uuid}");
        return record;
    }

    private void CheckAg(uint agno, string name)
    {
        if (agno >= Geometry.AgCount)
            throw new XfsException(Errno.EINVAL, $"{name}: the filesystem has {Geometry.AgCount} allocation groups");
    }

    private void CheckOwner(string name, Guid uuid, uint length, uint agno)
    {
        if (uuid != Superblock.MetadataUuid)
            throw new XfsCorruptionException(name, $"uuid {uuid} is not the filesystem's {Superblock.MetadataUuid}");
        if (length != Geometry.AgLength(agno))
            throw XfsCorruptionException.BadField(name, "length", length, $"AG {agno} has {Geometry.AgLength(agno)} blocks");
    }

    private static byte[] Read(IBlockDeviceOperations device, long offset, int length, string what)
    {
        if (offset < 0 || offset + length > device.Limits.Capacity)
            throw new XfsCorruptionException(what, $"bytes {offset}+{length} lie beyond the end of the {device.Limits.Capacity}-byte device");
        var buffer = new byte[length];
        var status = device.Read(offset, buffer);
        if (status != BlkStatus.Ok)
        {
            var errno = status.ToErrno();
            throw new XfsException(errno, $"{what}: read of {length} bytes at byte {offset} failed: {ErrnoText.StrError(errno)}");
        }
        return buffer;
    }
}
