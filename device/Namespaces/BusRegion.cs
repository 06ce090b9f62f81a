using DaxStack.Device.Errors;
using System.Text;
using DaxStack.Device.Platform;
using DaxStack.Device.Poison;

namespace DaxStack.Device.Namespaces;

/// <summary>
/// A region as the NVDIMM bus sees it: the platform <see cref="NvdimmRegion"/> with its
/// namespaces, the label file that describes them and the badblocks file that keeps its poison.
/// A region with no label file is label-less: one raw namespace (namespace R.0) covers it all.
/// Every change validates first and writes the label file atomically before it takes effect, so
/// a failed operation leaves labels, image and the in-memory state as they were.
/// </summary>
/// <remarks>
/// Lock order: the namespace lock, then the badblocks lock (taken inside poison changes).
/// Models the kernel's <c>nd_region</c> device with its namespace children and label
/// operations (<c>nd_pmem_namespace_label_update</c>) and the region's badblocks list.
/// </remarks>
public sealed class BusRegion
{
    private const int ZeroChunk = 64 << 10;

    private readonly object _gate = new();
    private readonly object _badblocksGate = new();
    private readonly PhysicalAddressSpace _space;
    private List<NamespaceLabel>? _labels;   // null: label-less
    private long _sequence;
    private LabelStorageArea? _labelFile;    // the label file as this region last read or wrote it
    // The poison list as this region last loaded or saved it: what it changed since is the
    // difference from it, which is what a save applies to the file (see SaveBadblocks).
    private IReadOnlyList<PoisonList.BadRange> _badblocksSynced;
    private volatile NvdimmNamespace[] _namespaces = [];

    internal BusRegion(PhysicalAddressSpace space, NvdimmRegion region, string? imagePath, LabelStorageArea? labels, bool readOnly)
    {
        _space = space;
        Region = region;
        ImagePath = imagePath;
        IsReadOnly = readOnly;
        if (imagePath != null)
        {
            LabelPath = LabelStorageArea.PathFor(imagePath);
            BadblocksPath = BadblocksFile.PathFor(imagePath);
        }
        if (labels != null)
        {
            _labels = [.. labels.Labels.OrderBy(l => l.Index)];
            _sequence = labels.Index.Sequence;
            _labelFile = labels;
        }
        _namespaces = Build(_labels);
        _badblocksSynced = region.Poison.Ranges;
        if (BadblocksPath != null && !readOnly)
            region.Poison.Changed += SaveBadblocks;
    }

    /// <summary>The platform region.</summary>
    public NvdimmRegion Region { get; }

    /// <summary>The physical address space the region is mapped into (whose CPUs access it).</summary>
    public PhysicalAddressSpace Space => _space;

    /// <summary>Region name (regionN).</summary>
    public string Name => Region.Name;

    /// <summary>The image file; null for in-memory media.</summary>
    public string? ImagePath { get; }

    /// <summary>The label file beside the image (it may not exist); null for in-memory media.</summary>
    public string? LabelPath { get; }

    /// <summary>The badblocks file beside the image (it may not exist); null for in-memory media.</summary>
    public string? BadblocksPath { get; }

    /// <summary>True when opened read-only: every change fails with EROFS.</summary>
    public bool IsReadOnly { get; }

    /// <summary>True while the region has no labels (one raw namespace covering it).</summary>
    public bool IsLabelless => Volatile.Read(ref _labels) == null;

    /// <summary>The namespaces, by index.</summary>
    public IReadOnlyList<NvdimmNamespace> Namespaces => _namespaces;

    /// <summary>Bytes not in any namespace.</summary>
    public long AvailableSize => FreeExtents().Sum(e => e.Length);

    /// <summary>The largest run of bytes not in any namespace.</summary>
    public long MaxAvailableExtent => FreeExtents().Select(e => e.Length).DefaultIfEmpty(0).Max();

    /// <summary>The namespace called <paramref name="name"/> (namespaceR.N or its friendly name); ENOENT if none.</summary>
    public NvdimmNamespace GetNamespace(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var all = _namespaces;
        return all.FirstOrDefault(n => n.Name == name)
            ?? all.FirstOrDefault(n => n.FriendlyName.Length > 0 && n.FriendlyName == name)
            ?? throw new NamespaceException(Errno.ENOENT,
                $"no namespace '{name}' in {Name} ({(all.Length == 0 ? "it has none" : "it has " + string.Join(", ", all.Select(n => n.Name)))})");
    }

    /// <summary>
    /// Creates a namespace as <paramref name="spec"/> says, at the lowest aligned offset where it
    /// fits (or in the largest free extent when no size is given), and writes the labels.
    /// Fails with EINVAL (bad options), EEXIST (name or uuid taken), ENOSPC (does not fit, or the
    /// label file is full) or EROFS, changing nothing.
    /// </summary>
    public NvdimmNamespace CreateNamespace(NamespaceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        lock (_gate)
        {
            ThrowIfReadOnly();
            var (align, sector, map) = spec.Resolve();
            if (_labels == null)
                throw new NamespaceException(Errno.ENOSPC,
                    $"{Name} has no free space: {_namespaces[0].Name} is a label-less raw namespace covering the whole region " +
                    $"(destroy it, or reconfigure it with create-namespace -e {_namespaces[0].Name})");
            if (_labels.Count >= LabelStorageArea.MaxLabels)
                throw new NamespaceException(Errno.ENOSPC,
                    $"{Name} has {_labels.Count} namespaces and its label file holds at most {LabelStorageArea.MaxLabels} labels");
            var label = Plan(spec, align, sector, map, _labels, index: null, uuid: null, preferredOffset: null);
            Commit([.. _labels, label]);
            return _namespaces.First(n => n.Index == label.Index);
        }
    }

    /// <summary>
    /// Replaces namespace <paramref name="name"/> by one made as <paramref name="spec"/> says,
    /// keeping its index and (unless the spec gives them) its uuid and friendly name; with no size
    /// given it keeps the old size rounded down to the new alignment, and it stays at its old
    /// offset when that is still possible. The namespace is in use, so <paramref name="force"/>
    /// is required (EBUSY otherwise). The data is not touched. Reconfiguring the label-less
    /// namespace gives the region its first labels.
    /// </summary>
    public NvdimmNamespace ReconfigureNamespace(string name, NamespaceSpec spec, bool force)
    {
        ArgumentNullException.ThrowIfNull(spec);
        NvdimmNamespace made;
        lock (_gate)
        {
            ThrowIfReadOnly();
            var old = GetNamespace(name);
            if (!force)
                throw Busy(old, "reconfigure");
            ThrowIfHeld(old);
            var (align, sector, map) = spec.Resolve();
            var rest = _labels == null ? [] : _labels.Where(l => l.Index != old.Index).ToList();
            var effective = spec with
            {
                Size = spec.Size ?? old.Size / align * align,
                Name = spec.Name ?? old.FriendlyName,
            };
            if (effective.Size == 0)
                throw new NamespaceException(Errno.ENOSPC, $"{old.Name} ({old.Size} bytes) is smaller than the {align}-byte alignment of {spec.Mode.ToName()}");
            var label = Plan(effective, align, sector, map, rest, old.Index, spec.Uuid ?? old.Uuid, old.Offset);
            Commit([.. rest, label]);
            made = _namespaces.First(n => n.Index == label.Index);
        }
        // Outside the lock: an unbinding device waits for its bios, which may read the namespaces.
        NamespaceRemoved?.Invoke();
        return made;
    }

    /// <summary>
    /// Raised when a namespace has been destroyed or reconfigured, on the thread that did it and
    /// before that call returns. A device attached to the old namespace unbinds here and waits for
    /// the I/O it has in flight, as the kernel's <c>del_gendisk</c> drains the queue, so that none
    /// of it lands in the range after the call returns.
    /// </summary>
    public event Action? NamespaceRemoved;

    /// <summary>
    /// Marks <paramref name="ns"/> as in use by this process, as a block device held open is (an
    /// NBD export of it, or a file system being written on it): until the result is disposed,
    /// destroying or reconfiguring it, here or in another process, fails with EBUSY even with
    /// force, as ndctl cannot disable a namespace whose device is held, and so does another hold.
    /// For an image, an advisory lock on a byte of the image's file beyond its data marks it for
    /// other processes (on Linux an open file description lock, which this process closing other
    /// descriptors of the image leaves in place); an image this process cannot open for writing is
    /// marked for this process only. Throws EBUSY if another process holds it already.
    /// </summary>
    public IDisposable Hold(NvdimmNamespace ns)
    {
        CheckOwn(ns);
        IDisposable? fileLock = null;
        if (ImagePath != null && !IsReadOnly)
        {
            fileLock = SideFile.TryLockByte(ImagePath, InUseByte(ns.Offset), out bool heldElsewhere);
            if (heldElsewhere)
                throw InUse(ns);
        }
        lock (_gate)
            _held.Add(ns.Offset);
        return new Holding(this, ns.Offset, fileLock);
    }

    private readonly HashSet<long> _held = [];

    // The byte whose lock marks the namespace at 'offset' in use: past any image's data (2^60),
    // one per 4 KiB of offset, so namespaces never share one.
    private static long InUseByte(long offset) => (1L << 60) + offset / 4096;

    private static NamespaceException InUse(NvdimmNamespace ns) =>
        new(Errno.EBUSY, $"{ns.Name} is in use (exported by daxstack serve, or open for writing by daxstack io or mkfs): stop that first");

    // Fails with EBUSY if 'ns' is held, by this process or another.
    private void ThrowIfHeld(NvdimmNamespace ns)
    {
        if (_held.Contains(ns.Offset))
            throw InUse(ns);
        if (ImagePath == null)
            return;
        using var probe = SideFile.TryLockByte(ImagePath, InUseByte(ns.Offset), out bool heldElsewhere);
        if (heldElsewhere)
            throw InUse(ns);
    }

    private sealed class Holding(BusRegion region, long offset, IDisposable? fileLock) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            lock (region._gate)
                region._held.Remove(offset);
            fileLock?.Dispose();
        }
    }

    /// <summary>
    /// Removes namespace <paramref name="name"/>: its label goes and its range becomes free. The
    /// data stays in the image (nothing is written to the media). Every namespace of a region is
    /// enabled, so like ndctl for an enabled namespace this needs <paramref name="force"/> (EBUSY
    /// otherwise). Destroying the label-less namespace leaves the region labelled and empty.
    /// </summary>
    public void DestroyNamespace(string name, bool force)
    {
        lock (_gate)
        {
            ThrowIfReadOnly();
            var ns = GetNamespace(name);
            if (!force)
                throw Busy(ns, "destroy");
            ThrowIfHeld(ns);
            Commit(_labels == null ? [] : [.. _labels.Where(l => l.Index != ns.Index)]);
        }
        NamespaceRemoved?.Invoke();
    }

    /// <summary>The region's bad blocks, relative to the region start.</summary>
    public IReadOnlyList<BadBlock> BadBlocks() => BadBlocksIn(0, Region.Size);

    /// <summary>The bad blocks of <paramref name="ns"/>, relative to the namespace start.</summary>
    public IReadOnlyList<BadBlock> BadBlocks(NvdimmNamespace ns)
    {
        CheckOwn(ns);
        return BadBlocksIn(ns.Offset, ns.Size);
    }

    /// <summary>
    /// Poisons <paramref name="count"/> 512-byte blocks of <paramref name="ns"/> from block
    /// <paramref name="block"/> (ndctl inject-error): loads from them raise a machine check, now
    /// and after the image is reopened. EINVAL if the blocks are outside the namespace; if the
    /// badblocks file cannot record the change, the error propagates and the poison is as it was.
    /// </summary>
    public void InjectError(NvdimmNamespace ns, long block, long count)
    {
        var (offset, length) = CheckBlocks(ns, block, count);
        ThrowIfReadOnly();
        // The list's save (SaveBadblocks) records it; if that fails, PoisonList puts itself back.
        Region.Poison.Add(offset, length);
    }

    /// <summary>
    /// Removes injected poison from the blocks (ndctl inject-error --uninject) without writing
    /// them. The emulated platform keeps one list, so the blocks stop being bad at once. If the
    /// badblocks file cannot record the change, the error propagates and the poison is as it was.
    /// </summary>
    public void UninjectError(NvdimmNamespace ns, long block, long count)
    {
        var (offset, length) = CheckBlocks(ns, block, count);
        ThrowIfReadOnly();
        Region.Poison.Clear(offset, length);
    }

    /// <summary>
    /// Clears every bad block of <paramref name="ns"/> the way the driver's recovery write does
    /// (ndctl clear-errors): each bad range is overwritten with zeros, persistently, then its
    /// poison is removed. The data that was there is lost. Returns the number of blocks cleared.
    /// Fails having changed nothing (no byte of the image, nor the badblocks file) when the
    /// clearing cannot be recorded or the zeros have no room: the new badblocks file is written
    /// aside first (EACCES for a directory this process may not write, ENOSPC for a full file
    /// system, EIO for a corrupt file, EAGAIN while another process holds the image's lock), the
    /// image's blocks under the bad ranges are then allocated (ENOSPC: a sparse image on a full
    /// file system), and only then is the file replaced and the zeros written, which can no
    /// longer fail for lack of room.
    /// </summary>
    public long ClearErrors(NvdimmNamespace ns)
    {
        CheckOwn(ns);
        ThrowIfReadOnly();
        var bad = BadBlocks(ns);
        if (bad.Count == 0)
            return 0;
        lock (_badblocksGate)
        {
            var after = new PoisonList();
            after.Load(Region.Poison.Ranges);
            after.Clear(ns.Offset, ns.Size);
            using var imageLock = BadblocksPath != null ? SideFile.LockImage(ImagePath!) : null;
            SideFile.Pending? record = null;
            if (BadblocksPath != null)
            {
                record = BadblocksFile.Prepare(BadblocksPath, MergedWithFile(after.Ranges));
            }
            using (record)
            {
                foreach (var b in bad)
                {
                    try
                    {
                        Region.Media.Reserve(ns.Offset + b.Block * BadBlock.BlockSize, b.Count * BadBlock.BlockSize);
                    }
                    catch (IOException e)
                    {
                        throw SideFile.Failure(e, $"cannot clear the errors of {ns.Name}: no room for the zeros in image '{ImagePath}'");
                    }
                }
                record?.Commit();
            }
            var cpu = _space.CurrentCpu;
            var zeros = new byte[ZeroChunk];
            long cleared = 0;
            foreach (var b in bad)
            {
                long pa = ns.PhysicalAddress + b.Block * BadBlock.BlockSize;
                long remaining = b.Count * BadBlock.BlockSize;
                while (remaining > 0)
                {
                    int n = (int)Math.Min(remaining, zeros.Length);
                    cpu.Persist(pa, zeros.AsSpan(0, n));
                    pa += n;
                    remaining -= n;
                }
                cleared += b.Count;
            }
            // The file records the clearing already: the list's save finds nothing left to write.
            _badblocksSynced = after.Ranges;
            Region.Poison.Clear(ns.Offset, ns.Size);
            return cleared;
        }
    }

    private IReadOnlyList<BadBlock> BadBlocksIn(long start, long length)
    {
        long end = start + length;
        var result = new List<BadBlock>();
        foreach (var r in Region.Poison.Ranges)
        {
            long s = Math.Max(r.Offset, start);
            long e = Math.Min(r.End, end);
            if (s < e)
                result.Add(new BadBlock((s - start) / BadBlock.BlockSize, (e - s) / BadBlock.BlockSize));
        }
        return result;
    }

    private (long Offset, long Length) CheckBlocks(NvdimmNamespace ns, long block, long count)
    {
        CheckOwn(ns);
        long blocks = ns.Size / BadBlock.BlockSize;
        if (block < 0 || count < 1)
            throw new NamespaceException(Errno.EINVAL, $"block {block} count {count}: the block must be >= 0 and the count >= 1");
        if (block >= blocks || count > blocks - block)
            throw new NamespaceException(Errno.EINVAL,
                $"blocks [{block}, {block}+{count}) are outside {ns.Name}, which has {blocks} blocks of {BadBlock.BlockSize} bytes");
        return (ns.Offset + block * BadBlock.BlockSize, count * BadBlock.BlockSize);
    }

    private void CheckOwn(NvdimmNamespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        if (ns.Region != Region)
            throw new ArgumentException($"{ns.Name} belongs to {ns.Region.Name}, not {Name}", nameof(ns));
    }

    private NamespaceLabel Plan(NamespaceSpec spec, long align, int sector, MemmapLocation map,
        IReadOnlyList<NamespaceLabel> others, int? index, Guid? uuid, long? preferredOffset)
    {
        string friendly = spec.Name ?? "";
        if (friendly.Length > 0 && others.Any(l => l.Name == friendly))
            throw new NamespaceException(Errno.EEXIST, $"{Name} already has a namespace named '{friendly}'");
        var id = spec.Uuid ?? uuid ?? Guid.NewGuid();
        if (others.Any(l => l.Uuid == id))
            throw new NamespaceException(Errno.EEXIST, $"{Name} already has a namespace with uuid {id}");

        var free = NamespaceLayout.FreeExtents(others.Select(l => (l.Offset, l.End)), Region.Size);
        long size, offset;
        if (spec.Size is { } wanted)
        {
            size = wanted;
            long? at = preferredOffset is { } p && p % align == 0 && free.Any(e => e.Start <= p && p <= e.End - size)
                ? p
                : NamespaceLayout.Place(free, size, align);
            offset = at ?? throw new NamespaceException(Errno.ENOSPC,
                $"{Name} cannot fit {size} bytes aligned to {align}: the largest aligned free extent is {NamespaceLayout.Largest(free, align).Size} bytes " +
                $"({free.Sum(e => e.Length)} bytes free in all)");
        }
        else
        {
            (offset, size) = NamespaceLayout.Largest(free, align);
            if (size == 0)
                throw new NamespaceException(Errno.ENOSPC,
                    $"{Name} has no free extent of at least {align} bytes at a {align}-byte boundary ({free.Sum(e => e.Length)} bytes free in all)");
        }

        return new NamespaceLabel
        {
            Uuid = id,
            Name = friendly,
            Index = index ?? NamespaceLayout.FirstFreeIndex(others),
            Offset = offset,
            Size = size,
            Align = align,
            SectorSize = sector,
            Mode = spec.Mode,
            Map = map,
        };
    }

    private void Commit(List<NamespaceLabel> labels)
    {
        labels.Sort((a, b) => a.Index.CompareTo(b.Index));
        if (NamespaceLayout.CheckSet(labels, Region.Size) is { } problem)
            throw new InvalidOperationException($"planned labels of {Name} are inconsistent: {problem}");
        if (LabelPath != null)
        {
            string profile = Region.Cost.Profile.Name;
            if (Encoding.UTF8.GetByteCount(profile) >= NamespaceIndex.ProfileField)
                throw new NamespaceException(Errno.EINVAL,
                    $"cost profile name '{profile}' is longer than {NamespaceIndex.ProfileField - 1} bytes and cannot be recorded in '{LabelPath}'");
            // The generation is stored as a u64 and read back only up to long.MaxValue: one more
            // would write a label file that no later open accepts, losing every namespace in it.
            if (_sequence == long.MaxValue)
                throw new NamespaceException(Errno.EOVERFLOW,
                    $"label file '{LabelPath}' is at its last generation ({_sequence}); nothing was changed");
            var index = new NamespaceIndex
            {
                LabelCount = labels.Count,
                Sequence = _sequence + 1,
                ImageSize = Region.Size,
                ImageName = Path.GetFileName(Path.GetFullPath(ImagePath!)),
                Profile = profile,
            };
            // Another process may have written the labels since this region read them: replacing
            // them now would silently drop its change, so check the generation under the image lock.
            using (SideFile.LockImage(ImagePath!))
            {
                long onDisk = GenerationOnDisk();
                if (onDisk != _sequence)
                    throw new NamespaceException(Errno.EAGAIN,
                        $"label file '{LabelPath}' was changed by another process after {Name} was opened (generation {_sequence}, now {onDisk}); nothing was changed, run the command again");
                var file = new LabelStorageArea(index, labels);
                file.Save(LabelPath);
                _labelFile = file;
            }
            _sequence++;
        }
        Volatile.Write(ref _labels, labels);
        _namespaces = Build(labels);
    }

    // The generation the label file holds now (0 if there is none); EIO if it is corrupt. When it
    // holds exactly the bytes this region last read or wrote, that file's generation, without
    // decoding and checksumming it again: each change would otherwise pay for that on top of
    // encoding and checksumming the new file.
    private long GenerationOnDisk()
    {
        var bytes = SideFile.ReadIfExists(LabelPath!, LabelStorageArea.MaxFileSize, "label file");
        if (bytes == null)
            return 0;
        if (_labelFile?.Encoded is { } known && bytes.AsSpan().SequenceEqual(known))
            return _labelFile.Index.Sequence;
        return LabelStorageArea.Parse(bytes, LabelPath!).Index.Sequence;
    }

    private NvdimmNamespace[] Build(List<NamespaceLabel>? labels)
    {
        if (labels == null)
        {
            var whole = new NamespaceLabel
            {
                Uuid = Guid.Empty,
                Index = 0,
                Offset = 0,
                Size = Region.Size,
                Align = NamespaceAlignment.Page,
                SectorSize = 512,
                Mode = NamespaceMode.Raw,
            };
            return [new NvdimmNamespace(Region, whole, isLabelless: true)];
        }
        return [.. labels.Select(l => new NvdimmNamespace(Region, l, isLabelless: false))];
    }

    private List<NamespaceLayout.Extent> FreeExtents() =>
        NamespaceLayout.FreeExtents(_namespaces.Select(n => (n.Offset, n.Offset + n.Size)), Region.Size);

    // Another process may have changed the badblocks file since this region read it (two
    // `ndctl inject-error` runs at once): under the image lock, this region's own changes since
    // its last load or save (ranges poisoned, ranges cleared) are applied to what the file holds
    // now, so neither process's ranges are lost. The region's own list stays as it is: another
    // process's poison reaches it when the image is next opened, as each process is its own machine.
    private void SaveBadblocks()
    {
        lock (_badblocksGate)
        {
            var current = Region.Poison.Ranges;
            if (current.SequenceEqual(_badblocksSynced))
                return;     // nothing of this region's own to record (a clearing recorded it already)
            using (SideFile.LockImage(ImagePath!))
                BadblocksFile.Save(BadblocksPath!, MergedWithFile(current));
            _badblocksSynced = current;
        }
    }

    // What the badblocks file should hold for this region's list to be 'current': what it holds
    // now with this region's own changes since its last load or save applied. The caller holds
    // the image lock.
    private IReadOnlyList<PoisonList.BadRange> MergedWithFile(IReadOnlyList<PoisonList.BadRange> current)
    {
        var onDisk = BadblocksFile.Load(BadblocksPath!, Region.Size);
        return onDisk.SequenceEqual(_badblocksSynced) ? current : Rebase(onDisk, _badblocksSynced, current);
    }

    // 'onDisk' with the ranges poisoned from 'synced' to 'current' added and those cleared removed.
    private static IReadOnlyList<PoisonList.BadRange> Rebase(IReadOnlyList<PoisonList.BadRange> onDisk,
        IReadOnlyList<PoisonList.BadRange> synced, IReadOnlyList<PoisonList.BadRange> current)
    {
        var merged = new PoisonList();
        merged.Load(onDisk);
        foreach (var r in Subtract(current, synced))
            merged.Add(r.Offset, r.Length);
        foreach (var r in Subtract(synced, current))
            merged.Clear(r.Offset, r.Length);
        return merged.Ranges;
    }

    private static IReadOnlyList<PoisonList.BadRange> Subtract(IReadOnlyList<PoisonList.BadRange> from, IReadOnlyList<PoisonList.BadRange> what)
    {
        var rest = new PoisonList();
        rest.Load(from);
        foreach (var r in what)
            rest.Clear(r.Offset, r.Length);
        return rest.Ranges;
    }

    private void ThrowIfReadOnly()
    {
        if (IsReadOnly)
            throw new NamespaceException(Errno.EROFS, $"{Name} ({ImagePath}) was opened read-only");
    }

    private static NamespaceException Busy(NvdimmNamespace ns, string what) =>
        new(Errno.EBUSY, $"{ns.Name} is active, specify --force to {what} it");
}
