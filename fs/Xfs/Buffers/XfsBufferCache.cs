using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// The metadata buffer cache of one filesystem: buffers keyed by disk address, read through the
/// block device (never media bytes directly) and verified on read, written back with their CRC
/// stamped and verified, and kept in least-recently-used order so clean buffers nobody holds can
/// be dropped when the cache is over <see cref="Capacity"/>. Dirty buffers and buffers a
/// transaction holds are never dropped. A buffer is looked up by its start address and length.
/// A buffer of another length at the same address may coexist only while it is stale (a
/// transaction freed its blocks and reuses them before committing, say an inode cluster
/// becoming a B+tree block); a clean, unheld one is dropped (its block changed role after the
/// free committed), and a dirty or held one is an error. Not thread-safe: the filesystem
/// serializes metadata changes.
/// </summary>
/// <remarks>Models the kernel's buffer cache (<c>xfs_buf_read_map</c>, <c>xfs_buf_get_map</c>, <c>xfs_buf_find</c> with <c>_xfs_buf_obj_cmp</c>'s rule for stale buffers of another length, the per-AG buffer LRU and <c>xfs_bwrite</c> with the buffer's write verifier).</remarks>
public sealed class XfsBufferCache
{
    /// <summary>Buffers kept by default: 4 MiB of 4 KiB blocks.</summary>
    public const int DefaultCapacity = 1024;

    private readonly Dictionary<(ulong Daddr, int Length), XfsBuffer> _buffers = [];
    // The buffer lengths seen so far (sectors, blocks, inode clusters): where to look for a
    // buffer of another length at an address.
    private readonly HashSet<int> _lengths = [];
    private readonly LinkedList<XfsBuffer> _lru = new();

    public XfsBufferCache(IBlockDeviceOperations device, XfsGeometry geometry, Guid metadataUuid, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 16);
        Device = device;
        Geometry = geometry;
        MetadataUuid = metadataUuid;
        Capacity = capacity;
    }

    /// <summary>The device the buffers are read from and written to.</summary>
    public IBlockDeviceOperations Device { get; }

    /// <summary>The filesystem's address arithmetic (verifiers use it to know where a buffer is).</summary>
    public XfsGeometry Geometry { get; }

    /// <summary>The uuid every metadata block must carry.</summary>
    public Guid MetadataUuid { get; }

    /// <summary>Buffers kept before clean, unheld ones are dropped (least recently used first).</summary>
    public int Capacity { get; }

    /// <summary>Buffers in the cache.</summary>
    public int Count => _buffers.Count;

    /// <summary>Device reads issued so far (cache misses).</summary>
    public long DeviceReads { get; private set; }

    /// <summary>Buffer writes issued so far.</summary>
    public long DeviceWrites { get; private set; }

    /// <summary>The cached buffer of <paramref name="length"/> bytes starting at <paramref name="daddr"/>, if any.</summary>
    public XfsBuffer? Find(ulong daddr, int length) => _buffers.GetValueOrDefault((daddr, length));

    /// <summary>
    /// The buffer of <paramref name="length"/> bytes at <paramref name="daddr"/>, from the cache or
    /// read from the device and checked by <paramref name="ops"/>. A cached buffer read before as
    /// something else is checked by <paramref name="ops"/> before it is handed out. Throws
    /// <see cref="XfsCorruptionException"/> when verification fails (nothing is cached then) and
    /// <see cref="XfsException"/> with EIO when the device read fails.
    /// </summary>
    public XfsBuffer Read(ulong daddr, int length, IXfsBufferOps ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        var bp = Lookup(daddr, length);
        if (bp != null)
        {
            if (bp.IsStale)
                throw new InvalidOperationException($"{bp}: reading a buffer whose block was freed");
            if (!ReferenceEquals(bp.Ops, ops))
            {
                // The same block read as another structure: the bytes must pass the new verifier.
                var previous = bp.Ops;
                bp.Ops = ops;
                try
                {
                    ops.VerifyRead(bp);
                }
                catch
                {
                    bp.Ops = previous;
                    throw;
                }
            }
            Touch(bp);
            return bp;
        }
        bp = new XfsBuffer(this, daddr, length, ops);
        ReadFromDevice(bp);
        ops.VerifyRead(bp);
        Insert(bp);
        return bp;
    }

    /// <summary>
    /// The buffer of <paramref name="length"/> bytes at <paramref name="daddr"/> without reading the
    /// device: a cached buffer as it is, or a new zero-filled one (<paramref name="created"/>).
    /// For blocks about to be initialised (a new B+tree block, a new inode chunk).
    /// </summary>
    public XfsBuffer Get(ulong daddr, int length, IXfsBufferOps ops, out bool created)
    {
        ArgumentNullException.ThrowIfNull(ops);
        var bp = Lookup(daddr, length);
        if (bp != null)
        {
            bp.Ops = ops;
            created = false;
            Touch(bp);
            return bp;
        }
        bp = new XfsBuffer(this, daddr, length, ops);
        Insert(bp);
        created = true;
        return bp;
    }

    /// <summary>
    /// Writes <paramref name="bp"/> to the device (no flush): the write verifier stamps its CRC and
    /// checks it first, and a buffer that fails is not written (<see cref="XfsCorruptionException"/>).
    /// The buffer is clean afterwards. EIO from the device is an <see cref="XfsException"/>.
    /// </summary>
    public void Write(XfsBuffer bp)
    {
        ArgumentNullException.ThrowIfNull(bp);
        if (bp.IsStale)
            throw new InvalidOperationException($"{bp}: writing a buffer whose block was freed");
        try
        {
            bp.Ops.VerifyWrite(bp);
        }
        catch (XfsCorruptionException e)
        {
            throw new XfsCorruptionException(e.Structure, $"write verifier refused the buffer: {e.Problem}", e.Errno);
        }
        var status = Device.Write(bp.Offset, bp.Data);
        DeviceWrites++;
        if (status != BlkStatus.Ok)
            throw IoError(status, $"{bp.Name}: write of {bp.Length} bytes at byte {bp.Offset}");
        bp.IsDirty = false;
    }

    /// <summary>Makes every completed write durable (a cache flush of the device).</summary>
    public void FlushDevice()
    {
        var status = Device.Flush();
        if (status != BlkStatus.Ok)
            throw IoError(status, "metadata flush");
    }

    /// <summary>Writes every dirty buffer no transaction holds, then flushes the device.</summary>
    public void WriteBackDirty()
    {
        var dirty = _buffers.Values.Where(b => b.IsDirty && !b.IsStale && b.Holder == null).OrderBy(b => b.Daddr).ToList();
        foreach (var bp in dirty)
            Write(bp);
        if (dirty.Count > 0)
            FlushDevice();
    }

    /// <summary>Drops every clean buffer no transaction holds (the next read goes to the device).</summary>
    public void Purge()
    {
        foreach (var bp in _buffers.Values.Where(b => !b.IsDirty && b.Holder == null).ToList())
            Remove(bp);
    }

    /// <summary>Drops <paramref name="bp"/> from the cache (a stale buffer at commit, a new buffer at cancel).</summary>
    internal void Remove(XfsBuffer bp)
    {
        if (_buffers.TryGetValue((bp.Daddr, bp.Length), out var cached) && ReferenceEquals(cached, bp))
            _buffers.Remove((bp.Daddr, bp.Length));
        if (bp.LruNode != null)
        {
            _lru.Remove(bp.LruNode);
            bp.LruNode = null;
        }
    }

    private XfsBuffer? Lookup(ulong daddr, int length)
    {
        if (length <= 0 || length % XfsFormat.BasicBlockSize != 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, "a buffer is a whole number of 512-byte basic blocks");
        if (_buffers.TryGetValue((daddr, length), out var bp))
            return bp;
        foreach (int other in _lengths)
        {
            if (other == length || !_buffers.TryGetValue((daddr, other), out var overlap) || overlap.IsStale)
                continue;
            if (overlap.IsDirty || overlap.Holder != null)
                throw new InvalidOperationException($"{overlap}: a {length}-byte buffer at the same address is wanted while this one is in use");
            Remove(overlap);
        }
        return null;
    }

    private void ReadFromDevice(XfsBuffer bp)
    {
        if (bp.Offset < 0 || bp.Offset + bp.Length > Device.Limits.Capacity)
            throw new XfsCorruptionException(bp.Name, $"bytes {bp.Offset}+{bp.Length} lie beyond the end of the {Device.Limits.Capacity}-byte device");
        var status = Device.Read(bp.Offset, bp.Data);
        DeviceReads++;
        if (status != BlkStatus.Ok)
            throw IoError(status, $"{bp.Name}: read of {bp.Length} bytes at byte {bp.Offset}");
    }

    private void Insert(XfsBuffer bp)
    {
        _buffers.Add((bp.Daddr, bp.Length), bp);
        _lengths.Add(bp.Length);
        bp.LruNode = _lru.AddFirst(bp);
        Evict();
    }

    private void Touch(XfsBuffer bp)
    {
        if (bp.LruNode == null)
            return;
        _lru.Remove(bp.LruNode);
        _lru.AddFirst(bp.LruNode);
    }

    private void Evict()
    {
        // Oldest first; buffers in use stay, so the cache may run over capacity while a big
        // transaction holds many of them.
        var node = _lru.Last;
        while (_buffers.Count > Capacity && node != null)
        {
            var previous = node.Previous;
            var bp = node.Value;
            if (!bp.IsDirty && bp.Holder == null)
                Remove(bp);
            node = previous;
        }
    }

    private static XfsException IoError(BlkStatus status, string what)
    {
        var errno = status.ToErrno();
        return new XfsException(errno, $"{what} failed: {ErrnoText.StrError(errno)}");
    }
}
