using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.Cil;
using DaxStack.Fs.Xfs.Log;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Trans;

/// <summary>
/// The part of a mounted filesystem the metadata core works on: the device, the geometry, the
/// in-core superblock (whose free-block and inode counters are current as of the last committed
/// transaction), the buffer cache, the transaction committer, the blocks reserved by live
/// transactions, and the feature flags and limits derived from the superblock. It checks at
/// open that the filesystem is one this implementation can change: v5, 4 KiB blocks, 512-byte
/// sectors and inodes, no reverse-mapping B+tree, no sparse inode chunks.
/// <see cref="Mount"/> is the mount path: log recovery, then delayed logging
/// (<see cref="Log"/>), fsync-style forces (<see cref="ForceLog"/>) and <see cref="Unmount"/>.
/// </summary>
/// <remarks>
/// <para><b>Locking</b>: one mount-wide lock, <see cref="Lock"/>. A transaction takes it in
/// <see cref="XfsTransaction.Begin"/> and releases it when it commits or is cancelled (on the same
/// thread), so one transaction runs at a time and the buffer cache, the CIL, the busy-extent
/// lists and the in-core superblock are only touched under it. <see cref="ForceLog"/>,
/// <see cref="ForceLogAll"/>, <see cref="PushLog"/> (the log worker) and <see cref="Unmount"/>
/// take it too. It is re-entrant: a transaction may force the log (the allocator does when only
/// busy space is left). Lock order: <see cref="Lock"/> only; nothing below takes a lock.</para>
/// Models the kernel's <c>struct xfs_mount</c> (<c>m_sb</c>, <c>m_ddev_targp</c>, <c>m_fdblocks</c>, <c>m_alloc_set_aside</c>, <c>m_allocbt_blks</c>, <c>m_agirotor</c>, <c>m_features</c>) and the checks of <c>xfs_mountfs</c> / <c>xfs_sb_validate_fsb_count</c>.</remarks>
public sealed class XfsMount
{
    /// <summary>XFS_ALLOCBT_AGFL_RESERVE plus the 4 blocks of a bmap btree split: blocks set aside per AG.</summary>
    public const uint SetAsidePerAg = 4 + 4;

    private readonly Random _random;
    private ulong _reserved;
    private uint _agRotor;
    private bool _unmounted;

    private XfsMount(IBlockDeviceOperations device, XfsSuperblock sb, XfsMountOptions options)
    {
        Device = device;
        Options = options;
        Superblock = sb;
        Geometry = new XfsGeometry(sb);
        MetadataUuid = sb.MetadataUuid;
        Buffers = new XfsBufferCache(device, Geometry, MetadataUuid, options.BufferCacheCapacity);
        Committer = options.Committer ?? XfsWriteHomeCommitter.Instance;
        Log = Committer as XfsCilCommitter;
        Busy = new XfsExtentBusy(this);
        _random = options.GenerationSeed is int seed ? new Random(seed) : new Random();
    }

    /// <summary>The device the filesystem lives on.</summary>
    public IBlockDeviceOperations Device { get; }

    /// <summary>Options given at open.</summary>
    public XfsMountOptions Options { get; }

    /// <summary>The in-core superblock; its counters change only when a transaction commits.</summary>
    public XfsSuperblock Superblock { get; }

    /// <summary>The address arithmetic.</summary>
    public XfsGeometry Geometry { get; }

    /// <summary>The uuid every metadata block carries.</summary>
    public Guid MetadataUuid { get; }

    /// <summary>The metadata buffer cache.</summary>
    public XfsBufferCache Buffers { get; }

    /// <summary>Where committed transactions go.</summary>
    public ITransactionCommitter Committer { get; }

    /// <summary>The journal (delayed logging) when the committer is one; null when commits write home synchronously.</summary>
    public XfsCilCommitter? Log { get; }

    /// <summary>The mount-wide lock (see the remarks): held by a running transaction, forces, the log worker and unmount.</summary>
    public Lock Lock { get; } = new();

    /// <summary>Blocks freed by transactions not yet durable in the log, which the allocator must not hand out.</summary>
    public XfsExtentBusy Busy { get; }

    /// <summary>Transactions log recovery replayed when <see cref="Mount"/> mounted the filesystem.</summary>
    public int ReplayedTransactions { get; private set; }

    /// <summary>Inodes <see cref="Mount"/> found on the AGI unlinked lists and freed (0 when <see cref="XfsMountOptions.SkipUnlinkedRecovery"/> is set).</summary>
    public int RecoveredUnlinkedInodes { get; private set; }

    /// <summary>
    /// Mounted read-only (<see cref="XfsMountOptions.ReadOnly"/>, or a read-only device): a
    /// transaction that reserves blocks or changes anything fails with EROFS; empty ones (the
    /// reads that walk metadata) still run.
    /// </summary>
    public bool IsReadOnly { get; private set; }

    /// <summary>Whether <see cref="Unmount"/> has run: every later transaction fails.</summary>
    public bool IsUnmounted => _unmounted;

    /// <summary>The last commit sequence durable in the log (everything is durable at commit without a journal).</summary>
    public long ForcedSequence => Log?.ForcedSequence ?? long.MaxValue;

    /// <summary>The free-inode B+tree exists (finobt).</summary>
    public bool HasFinobt => (Superblock.FeaturesRoCompat & XfsRoCompatFeatures.FinoBt) != 0;

    /// <summary>The AGI counts its inode B+tree blocks (inobtcount).</summary>
    public bool HasInobtCount => (Superblock.FeaturesRoCompat & XfsRoCompatFeatures.InoBtCount) != 0;

    /// <summary>The reference-count B+tree exists (reflink).</summary>
    public bool HasReflink => (Superblock.FeaturesRoCompat & XfsRoCompatFeatures.Reflink) != 0;

    /// <summary>m_alloc_set_aside: blocks per filesystem never handed to reservations, so AGFLs can always be refilled.</summary>
    public ulong AllocSetAside => Geometry.AgCount * (ulong)SetAsidePerAg;

    /// <summary>m_allocbt_blks: free-space B+tree blocks beyond the roots, counted in sb_fdblocks but not usable.</summary>
    public ulong AllocBtreeBlocks { get; private set; }

    /// <summary>Blocks reserved by live transactions.</summary>
    public ulong ReservedBlocks => _reserved;

    /// <summary>Blocks a new transaction may still reserve: sb_fdblocks less the set-aside, the free-space B+tree blocks and live reservations.</summary>
    public ulong FreeBlocksAvailable
    {
        get
        {
            ulong unavailable = AllocSetAside + AllocBtreeBlocks + _reserved;
            return Superblock.FdBlocks > unavailable ? Superblock.FdBlocks - unavailable : 0;
        }
    }

    /// <summary>Whether a failed commit has shut the filesystem down (every later transaction fails with EIO).</summary>
    public bool IsShutdown => ShutdownReason != null;

    /// <summary>Why the filesystem was shut down.</summary>
    public string? ShutdownReason { get; private set; }

    /// <summary>
    /// Opens the filesystem on <paramref name="device"/>: reads and verifies the primary superblock
    /// and every AGF. On a read-only device the mount is read-only (<see cref="IsReadOnly"/>).
    /// Throws <see cref="XfsCorruptionException"/> for damaged metadata and
    /// <see cref="XfsException"/> with EINVAL for a format this implementation cannot change.
    /// </summary>
    public static XfsMount Open(IBlockDeviceOperations device, XfsMountOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= new XfsMountOptions();
        var sector = new byte[XfsFormat.SectorSize];
        if (device.Limits.Capacity < sector.Length)
            throw new XfsException(Errno.EINVAL, $"{device.Name}: too small to hold a filesystem");
        var status = device.Read(0, sector);
        if (status != BlkStatus.Ok)
            throw new XfsException(status.ToErrno(), $"sb 0: read failed: {ErrnoText.StrError(status.ToErrno())}");
        var sb = XfsSuperblock.ReadFrom(sector);
        CheckSupported(sb, device);
        var mp = new XfsMount(device, sb, options) { IsReadOnly = device.Limits.ReadOnly };
        // Read the primary through the cache as well, so later transactions find it verified.
        mp.Buffers.Read(0, XfsFormat.SectorSize, XfsSuperblockBufferOps.Instance);
        for (uint agno = 0; agno < mp.Geometry.AgCount; agno++)
        {
            var agf = XfsAgf.Decode(mp.Buffers.Read(XfsAgHeaders.AgfDaddr(mp.Geometry, agno), mp.Geometry.SectorSize, XfsAgfBufferOps.Instance).Data);
            mp.AllocBtreeBlocks += agf.BtreeBlks;
        }
        return mp;
    }

    /// <summary>
    /// Mounts the filesystem on <paramref name="device"/>: reads the log, replays it if it is not
    /// clean (<see cref="XfsLogReplay"/>), then opens the filesystem with a delayed-logging
    /// <see cref="XfsCilCommitter"/> (budget <see cref="XfsMountOptions.LogBudgetBytes"/>) as its
    /// committer, and inactivates every inode left on an AGI unlinked list
    /// (<see cref="Inode.XfsInactive.RecoverUnlinked"/>, unless
    /// <see cref="XfsMountOptions.SkipUnlinkedRecovery"/>). With <see cref="XfsMountOptions.ReadOnly"/>
    /// the mount then refuses transactions (<see cref="IsReadOnly"/>); on a read-only device it is
    /// read-only whatever the options say, and the device is never written. Throws
    /// <see cref="XfsException"/> with EROFS on a read-only device whose log needs recovery,
    /// <see cref="XfsCorruptionException"/> naming the log record when the log is damaged (the
    /// device is then unchanged), <see cref="XfsCorruptionException"/> naming the AGI bucket when an
    /// unlinked list is damaged, and what <see cref="Open"/> throws.
    /// </summary>
    public static XfsMount Mount(IBlockDeviceOperations device, XfsMountOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= new XfsMountOptions();
        if (options.Committer != null)
            throw new ArgumentException("Mount makes its own journal committer; use Open for another committer", nameof(options));
        if (device.Limits.ReadOnly)
        {
            var sector = new byte[XfsFormat.SectorSize];
            var status = device.Read(0, sector);
            if (status != BlkStatus.Ok)
                throw new XfsException(status.ToErrno(), $"sb 0: read failed: {ErrnoText.StrError(status.ToErrno())}");
            var sb = XfsSuperblock.ReadFrom(sector);
            var recovery = XlogReader.Read(device, XlogLocation.FromGeometry(new XfsGeometry(sb), sb.Uuid));
            if (!recovery.IsClean)
                throw new XfsException(Errno.EROFS, $"{device.Name}: log needs recovery, which a read-only device does not allow");
            // A clean log and nothing to write: no journal, and every transaction refused.
            return Open(device, options);
        }
        var writer = XfsLogReplay.Recover(device, out int replayed);
        var cil = new XfsCilCommitter(writer, options.LogBudgetBytes);
        var mp = Open(device, options with { Committer = cil });
        mp.ReplayedTransactions = replayed;
        if (!options.SkipUnlinkedRecovery)
        {
            // xlog_recover_process_iunlinks: files unlinked while open when the system went
            // down are freed now, and that is made durable before the mount is handed out.
            mp.RecoveredUnlinkedInodes = Inode.XfsInactive.RecoverUnlinked(mp);
            if (mp.RecoveredUnlinkedInodes > 0)
                mp.ForceLogAll();
        }
        if (options.ReadOnly)
        {
            // Recovery (above) may write even a read-only mount, as XFS's does; from here on nothing changes.
            mp.ForceLogAll();
            mp.IsReadOnly = true;
        }
        return mp;
    }

    /// <summary>
    /// Makes every transaction committed up to <paramref name="sequence"/> (an
    /// <see cref="XfsTransaction.CommitSequence"/>) durable in the log: one log write and one
    /// device flush if some are not yet, nothing if they already are (fsync). EIO when the log
    /// cannot be written (the filesystem is then shut down).
    /// </summary>
    public void ForceLog(long sequence)
    {
        lock (Lock)
        {
            if (Log == null || sequence <= Log.ForcedSequence)
                return;
            Guarded(() => Log.Force(sequence));
        }
    }

    /// <summary>Makes every committed transaction durable in the log (sync).</summary>
    public void ForceLogAll()
    {
        lock (Lock)
        {
            if (Log != null)
                ForceLog(Log.CommittedSequence);
        }
    }

    /// <summary>
    /// The log worker's periodic work: forces the CIL and writes the forced buffers home (a
    /// checkpoint), moving the log tail. Does nothing after <see cref="Unmount"/> or a shutdown.
    /// </summary>
    public void PushLog()
    {
        lock (Lock)
        {
            if (Log == null || _unmounted || IsShutdown)
                return;
            Guarded(() =>
            {
                Log.ForceAll();
                Log.WriteHome();
            });
        }
    }

    /// <summary>
    /// Unmounts: forces every committed transaction, writes every buffer home, writes the clean
    /// unmount record and flushes (without a journal: writes dirty buffers home and flushes).
    /// Later transactions fail with EIO; a second call does nothing. Throws
    /// <see cref="InvalidOperationException"/> while a transaction is running on this thread.
    /// </summary>
    public void Unmount()
    {
        lock (Lock)
        {
            if (_unmounted)
                return;
            if (_transactionDepth > 0)
                throw new InvalidOperationException("unmount while a transaction is running");
            // A read-only device is never written; a read-only mount with a journal still writes
            // its clean unmount record (recovery may have dirtied the log).
            if (!IsShutdown && !(IsReadOnly && Log == null))
            {
                if (Log != null)
                    Guarded(Log.Unmount);
                else
                {
                    Buffers.WriteBackDirty();
                    Buffers.FlushDevice();
                }
            }
            _unmounted = true;
            Unmounted?.Invoke(this);
        }
    }

    /// <summary>Raised (under <see cref="Lock"/>) when <see cref="Unmount"/> has finished, so registries can forget the mount.</summary>
    public event Action<XfsMount>? Unmounted;

    private int _transactionDepth;

    // Called by XfsTransaction.Begin: takes the lock and checks the mount can run a transaction.
    internal void EnterTransaction()
    {
        Lock.Enter();
        if (_unmounted)
        {
            Lock.Exit();
            throw new XfsException(Errno.EIO, "filesystem unmounted");
        }

        _transactionDepth++;
    }

    internal void ExitTransaction()
    {
        _transactionDepth--;
        Lock.Exit();
    }

    // A journal failure shuts the filesystem down: later transactions fail with EIO.
    private void Guarded(Action action)
    {
        try
        {
            action();
        }
        catch (XfsException e)
        {
            Shutdown($"log I/O failed: {e.Message}");
            throw;
        }
    }

    private static void CheckSupported(XfsSuperblock sb, IBlockDeviceOperations device)
    {
        string Unsupported(string what) => $"sb 0: {what} is not supported";
        if (sb.BlockSize != XfsFormat.BlockSize)
            throw new XfsException(Errno.EINVAL, Unsupported($"block size {sb.BlockSize} (only {XfsFormat.BlockSize})"));
        if (sb.SectSize != XfsFormat.SectorSize)
            throw new XfsException(Errno.EINVAL, Unsupported($"sector size {sb.SectSize} (only {XfsFormat.SectorSize})"));
        if (sb.InodeSize != XfsFormat.InodeSize)
            throw new XfsException(Errno.EINVAL, Unsupported($"inode size {sb.InodeSize} (only {XfsFormat.InodeSize})"));
        if ((sb.FeaturesRoCompat & XfsRoCompatFeatures.RmapBt) != 0)
            throw new XfsException(Errno.EINVAL, Unsupported("the reverse-mapping B+tree (rmapbt=1)"));
        if ((sb.FeaturesIncompat & XfsIncompatFeatures.SparseInodes) != 0)
            throw new XfsException(Errno.EINVAL, Unsupported("sparse inode chunks (sparse=1)"));
        if ((sb.FeaturesIncompat & XfsIncompatFeatures.NeedsRepair) != 0)
            throw new XfsException(Errno.EUCLEAN, "sb 0: the filesystem needs xfs_repair before it can be changed");
        var known = XfsIncompatFeatures.FType | XfsIncompatFeatures.MetaUuid | XfsIncompatFeatures.BigTime;
        if ((sb.FeaturesIncompat & ~known) != 0)
            throw new XfsException(Errno.EINVAL, Unsupported($"incompatible feature bits 0x{(uint)(sb.FeaturesIncompat & ~known):x}"));
        if ((long)sb.DataBlocks * sb.BlockSize > device.Limits.Capacity)
            throw new XfsCorruptionException("sb 0", $"filesystem of {sb.DataBlocks} blocks is larger than the {device.Limits.Capacity}-byte device");
    }

    /// <summary>ialloc_blks: blocks of one 64-inode chunk.</summary>
    public uint InodeChunkBlocks => (uint)(XfsFormat.InodesPerChunk * Geometry.InodeSize / Geometry.BlockSize);

    /// <summary>The inode cluster (the unit inode buffers are read in): 8 KiB scaled by inode size / 256, in blocks.</summary>
    public uint InodeClusterBlocks => (uint)Math.Max(1, 8192 * (Geometry.InodeSize / 256) / Geometry.BlockSize);

    /// <summary>cluster_align: inode chunk alignment in blocks, sb_inoalignmt when the ALIGN feature is on and it covers a cluster.</summary>
    public uint InodeChunkAlignment =>
        (Superblock.VersionNum & XfsSbVersion.Align) != 0 && Superblock.InoAlignMt >= InodeClusterBlocks ? Superblock.InoAlignMt : 1;

    /// <summary>maxicount: the most inodes sb_imax_pct allows, in whole chunks (0 = no limit).</summary>
    public ulong MaxInodeCount
    {
        get
        {
            if (Superblock.IMaxPct == 0)
                return 0;
            ulong blocks = Superblock.DataBlocks * Superblock.IMaxPct / 100;
            blocks = blocks / InodeChunkBlocks * InodeChunkBlocks;
            return blocks << Geometry.InodesPerBlockLog;
        }
    }

    /// <summary>A generation number for a new inode chunk (random, so a reused inode number gets a new generation).</summary>
    public uint NextGeneration() => (uint)_random.NextInt64(0, 1L << 32);

    /// <summary>The AG to start a directory's inode search in (m_agirotor: directories spread over the AGs).</summary>
    public uint NextDirectoryAg() => _agRotor++ % Geometry.AgCount;

    internal bool TryReserve(uint blocks)
    {
        if (blocks > FreeBlocksAvailable)
            return false;
        _reserved += blocks;
        return true;
    }

    internal void Unreserve(uint blocks)
    {
        if (blocks > _reserved)
            throw new InvalidOperationException($"releasing {blocks} reserved blocks, only {_reserved} are reserved");
        _reserved -= blocks;
    }

    internal void ApplyAllocBtreeDelta(long delta)
    {
        long value = (long)AllocBtreeBlocks + delta;
        if (value < 0)
            throw new InvalidOperationException($"free-space B+tree block count would go negative ({AllocBtreeBlocks} {delta:+0;-0})");
        AllocBtreeBlocks = (ulong)value;
    }

    internal void Shutdown(string reason) => ShutdownReason ??= reason;
}
