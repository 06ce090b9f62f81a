using System.Runtime.InteropServices;
using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Platform;
using DaxStack.Device.Poison;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;
using DaxStack.Driver.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DaxStack.Driver.Pmem;

/// <summary>
/// The pmem driver's device over one <c>raw</c> or <c>fsdax</c> namespace: a block device
/// (<see cref="IBlockDeviceOperations"/>) and a DAX device (<see cref="IDaxOperations"/>) over
/// the same memory.
/// <para>
/// Block writes are non-temporal stores without a fence, as the kernel's <c>write_pmem</c>
/// (<c>memcpy_flushcache</c>) does: they sit in the issuing CPU's write-combining buffers until a
/// fence, so a crash before a flush may lose them. A flush (<see cref="BioOp.Flush"/> or
/// <see cref="BioFlags.PreFlush"/>) fences every submission queue (<c>nvdimm_flush</c>);
/// <see cref="BioFlags.Fua"/> fences the queue that wrote the bio before it completes.
/// </para>
/// <para>
/// Bios run on the driver's own emulated CPUs, one per submission queue (the hardware context of
/// blk-mq), so that a flush can fence every write that completed before it whichever thread
/// submitted them. The device makes them when it is attached and retires them
/// (<see cref="PhysicalAddressSpace.RetireCpu"/>) once it is unbound and drained, so a process that
/// attaches and detaches devices does not pile CPUs up in the platform. DAX accesses run on the
/// caller's CPU, as kernel code does.
/// Lock order: a queue's gate, then the device's region lock (taken inside each CPU instruction).
/// </para>
/// <para>
/// The source of <see cref="WriteFrom"/> runs with the queue's gate held and its chunk a store in
/// progress on the region (which every other use of the region waits for); the sink of
/// <see cref="ReadTo"/> with both the gate and the region lock held. A bio, WriteFrom or ReadTo
/// that such a callback submits to any device of the same region would take them again or wait
/// for its own store (a queue's gate is a monitor, which nests; the region lock does not, and a
/// gate another thread holds while it waits for the region would never come free), so
/// it throws <see cref="LockRecursionException"/> before it takes anything: the thread notes the
/// region it runs a callback for (<c>t_calloutRegion</c>). A CPU instruction on the region from
/// the callback (through a DAX window, say) is refused the same way by the region lock itself.
/// </para>
/// </summary>
/// <remarks>Models the kernel's <c>struct pmem_device</c> and <c>pmem_submit_bio</c>, <c>pmem_do_read</c>,
/// <c>pmem_do_write</c>, <c>pmem_clear_poison</c>, <c>pmem_dax_direct_access</c>,
/// <c>pmem_dax_zero_page_range</c>, <c>pmem_recovery_write</c> (drivers/nvdimm/pmem.c).</remarks>
public sealed class PmemDevice : IBlockDeviceOperations, IBlockDeviceWriteFrom, IBlockDeviceReadTo, IDaxOperations, IDisposable
{
    private const int PageShift = 12;
    private const int PageSize = 1 << PageShift;
    private static readonly byte[] s_zeroes = new byte[64 << 10];

    private readonly PhysicalAddressSpace _space;
    private readonly BusRegion _busRegion;
    private readonly NvdimmRegion _region;
    private readonly SubmissionQueue[] _queues;
    private readonly HostRoom _room;
    private readonly NamespaceBinding _binding;

    // The region whose device this thread is running a WriteFrom source or ReadTo sink for (with
    // a queue's gate held, and the region lock or a store in progress on the region); null outside such a callback.
    [ThreadStatic]
    private static NvdimmRegion? t_calloutRegion;

    internal PmemDevice(BusRegion region, NvdimmNamespace ns, bool readOnly, int logicalBlockSize, int queueCount, ILogger? logger)
    {
        var space = region.Space;
        _space = space;
        _busRegion = region;
        _binding = new NamespaceBinding(region, ns);
        Namespace = ns;
        _region = ns.Region;
        _room = new HostRoom(_region.Media, ns.Offset, ns.Size, ns.BlockDevice ?? ns.Name, logger);
        Limits = new QueueLimits
        {
            Capacity = ns.Size / logicalBlockSize * logicalBlockSize,
            LogicalBlockSize = logicalBlockSize,
            PhysicalBlockSize = PageSize,
            ReadOnly = readOnly,
            Dax = true,
        };
        _queues = new SubmissionQueue[queueCount];
        for (int i = 0; i < queueCount; i++)
            _queues[i] = new SubmissionQueue(space.CreateCpu());
        region.NamespaceRemoved += DrainIfGone;
        // Destroyed before the subscription took: no removal may come to unsubscribe it, or to
        // retire the queues' CPUs, which nothing will use (every operation finds the device gone).
        if (_binding.IsGone)
        {
            region.NamespaceRemoved -= DrainIfGone;
            RetireQueueCpus();
        }
    }

    // The namespace was destroyed or reconfigured: once this device is unbound, wait for the bios,
    // zero-page-range and recovery writes in flight on every queue (each checks the binding again
    // under its queue), so that none of them lands in the range after the namespace change
    // returns (del_gendisk's queue freeze, kill_dax's synchronize_srcu), and retire the queues'
    // CPUs. Then the device stops listening: it is unbound for good, so a later removal has
    // nothing to tell it, and the region's event would otherwise keep every device ever attached
    // to it reachable.
    private void DrainIfGone()
    {
        if (!_binding.IsGone)
            return;
        Drain();
        RetireQueueCpus();
        _busRegion.NamespaceRemoved -= DrainIfGone;
    }

    // Waits for what is in flight on every queue (each operation checks the binding again once it
    // holds its queue, and finds the device unbound).
    private void Drain()
    {
        foreach (var q in _queues)
        {
            lock (q)
            {
            }
        }
    }

    // Once unbound for good and drained: whatever takes a queue from now on finds the device gone
    // before it executes anything on the queue's CPU (every path checks the binding under its
    // queue: DoRead, DoWrite, WriteFrom, ReadTo and each queue of Flush), so the CPUs can leave
    // the platform. Their write-backs not yet fenced (writes since the last flush) stay unfenced:
    // those lines are in flight until a crash or a write-back of the region resolves them, as
    // they were when nothing would ever fence these CPUs again. Retiring twice (a detach after
    // the namespace went) does nothing.
    private void RetireQueueCpus()
    {
        foreach (var q in _queues)
            _space.RetireCpu(q.Cpu);
    }

    /// <summary>
    /// Detaches the driver from the device (an unbind): the device is gone from then on, as if its
    /// namespace had been destroyed (bios fail with <see cref="BlkStatus.IoError"/>, DAX operations
    /// with ENXIO, windows it handed out throw <see cref="DaxDeviceGoneException"/>), the bios,
    /// zero-page-range and recovery writes in flight complete before it returns, its submission
    /// queues' CPUs are retired (<see cref="PhysicalAddressSpace.RetireCpu"/>), and the device
    /// stops listening to its region, so that nothing of the bus keeps it and the platform keeps
    /// no CPU of it. Writes completed since the last flush are not flushed by the detach: their
    /// lines stay in flight until a crash or a write-back of the region (flush first to make them
    /// durable). The namespace and its data stay; attach the driver again for a new device. Safe
    /// to call more than once, and after the namespace is gone. Throws
    /// <see cref="LockRecursionException"/> from the store source of a <see cref="WriteFrom"/> or
    /// the load sink of a <see cref="ReadTo"/> on the device's region (it would wait for its own queue).
    /// </summary>
    /// <remarks>Models the nd_pmem driver's remove (<c>nd_pmem_remove</c> -> <c>pmem_release_disk</c>:
    /// <c>kill_dax</c>, <c>del_gendisk</c>).</remarks>
    public void Dispose()
    {
        ThrowIfInCallout("Dispose");
        _binding.Unbind();
        Drain();
        RetireQueueCpus();
        _busRegion.NamespaceRemoved -= DrainIfGone;
    }

    /// <summary>The namespace this device exposes.</summary>
    public NvdimmNamespace Namespace { get; }

    /// <inheritdoc/>
    public string Name => Namespace.BlockDevice ?? Namespace.Name;

    /// <inheritdoc/>
    public QueueLimits Limits { get; }

    /// <inheritdoc/>
    public long PageCount => Namespace.Size >> PageShift;

    /// <summary>
    /// The emulated CPUs the submission queues run bios on (their clocks hold the modeled cost of
    /// block I/O); retired once the device is unbound, when they keep their clocks and counters.
    /// </summary>
    public IReadOnlyList<Cpu> QueueCpus => [.. _queues.Select(q => q.Cpu)];

    // ------------------------------------------------------------------ block

    /// <inheritdoc/>
    public BlkStatus SubmitBio(in Bio bio)
    {
        ThrowIfInCallout("a bio");
        using var activity = DriverDiagnostics.ActivitySource.StartActivity("pmem_submit_bio");
        // A device whose namespace was destroyed or reconfigured is gone: its bios fail as those
        // of a deleted disk do (blk_queue_enter), instead of reaching what the range holds now.
        var status = _binding.IsGone ? BlkStatus.IoError : Validate(bio);
        // Room in the image for what a write, discard or write-zeroes stores (a sparse image on a full file system).
        if (status == BlkStatus.Ok && (bio.Op is not (BioOp.Read or BioOp.Flush) || (bio.Op == BioOp.Read && _room.ForReads))
            && _room.Reserve(bio.Offset, bio.Size) is var roomError and not 0)
            status = HostRoom.StatusOf(roomError);
        if (status == BlkStatus.Ok)
        {
            status = bio.Op switch
            {
                BioOp.Flush => Flush(),
                BioOp.Read => DoRead(bio),
                _ => DoWrite(bio),
            };
        }
        if (activity != null)
        {
            activity.SetTag("op", bio.Op.ToString());
            activity.SetTag("sector", bio.Sector);
            activity.SetTag("size", bio.Size);
            activity.SetTag("status", status.ToString());
        }
        if (DriverDiagnostics.Bios.Enabled)
            DriverDiagnostics.Bios.Add(1, new KeyValuePair<string, object?>("op", bio.Op), new KeyValuePair<string, object?>("status", status));
        if (status == BlkStatus.Ok && bio.Size > 0)
        {
            if (bio.Op == BioOp.Read)
                DriverDiagnostics.BytesRead.Add(bio.Size);
            else if (bio.Op != BioOp.Flush)
                DriverDiagnostics.BytesWritten.Add(bio.Size);
        }
        return status;
    }

    /// <inheritdoc/>
    public bool HasBadBlocks(long offset, long length)
    {
        if (length <= 0 || _region.Poison.IsEmpty)
            return false;
        // The disk's badblocks list holds its own sectors only: clip the range to the namespace,
        // so that a long range neither wraps past 2^63 (and misses the poison) nor reaches the
        // poison of a neighbouring namespace of the region.
        if (offset < 0)
        {
            length += offset;
            offset = 0;
        }
        if (offset >= Namespace.Size || length <= 0)
            return false;
        length = Math.Min(length, Namespace.Size - offset);
        return _region.Poison.TryFindPoison(Namespace.Offset + offset, length, out _);
    }

    private BlkStatus Validate(in Bio bio)
    {
        // BioOp.Flush stands for the kernel's empty REQ_OP_WRITE | REQ_PREFLUSH bio, so the flags may ride on it.
        if (bio.Op == BioOp.Flush)
            return bio.Size == 0 ? BlkStatus.Ok : BlkStatus.Invalid;
        // submit_bio_noacct: FUA and PREFLUSH order and persist written data, so only a write may
        // carry them; any other operation with either fails as an I/O error, whatever its length and
        // before the operation itself is looked at (the kernel warns once and ends the bio).
        if ((bio.Flags & (BioFlags.Fua | BioFlags.PreFlush)) != 0 && bio.Op != BioOp.Write)
            return BlkStatus.IoError;
        // submit_bio_noacct: an operation the device does not know is not supported (it must
        // not fall through to one it does).
        if (bio.Op is not (BioOp.Read or BioOp.Write or BioOp.Discard or BioOp.WriteZeroes))
            return BlkStatus.NotSupported;
        if (bio.Op is BioOp.Read or BioOp.Write)
        {
            long data = bio.IsVectored ? bio.Vectors.Length : bio.Buffer.Length;
            if (data != bio.Size)
                return BlkStatus.Invalid;
        }
        // A negative start sector is malformed (Bio marks a byte offset that is not a whole sector
        // with -1); past -2^54 its byte offset would wrap, into the device for some of them.
        if (bio.Sector < 0)
            return BlkStatus.Invalid;
        // bio_check_eod compares sectors: a start sector whose byte offset does not fit in 64 bits
        // is past the end of any device, and Bio.Offset would wrap (possibly into the device).
        if (bio.Sector > long.MaxValue / Bio.SectorSize)
        {
            int lbs = Limits.LogicalBlockSize;
            bool whole = bio.Sector % (lbs / Bio.SectorSize) == 0 && bio.Size >= 0 && bio.Size % lbs == 0;
            if (!whole)
                return BlkStatus.Invalid;
            // A bio of no sectors is not past the end wherever it starts (see ValidateRange); it
            // touches no memory, so its wrapped byte offset is never used.
            if (bio.Size != 0)
                return BlkStatus.IoError;
            return bio.Op != BioOp.Read && Limits.ReadOnly ? BlkStatus.IoError : BlkStatus.Ok;
        }
        return ValidateRange(bio.Op, bio.Offset, bio.Size);
    }

    // The checks of any bio's range: whole logical blocks (EINVAL), within the device and writable
    // when it writes (EIO).
    private BlkStatus ValidateRange(BioOp op, long offset, long size)
    {
        int lbs = Limits.LogicalBlockSize;
        if (offset < 0 || size < 0 || offset % lbs != 0 || size % lbs != 0)
            return BlkStatus.Invalid;
        // The block layer's bio_check_eod: a request past the end is an I/O error. It looks only at
        // bios that have sectors: one of no sectors (an empty read or write, say) passes at any start
        // sector, and nothing later in submit_bio_noacct or pmem_submit_bio refuses it for its
        // length, so it completes without touching the device.
        if (size != 0 && offset > Limits.Capacity - size)
            return BlkStatus.IoError;
        if (op != BioOp.Read && Limits.ReadOnly)
            return BlkStatus.IoError;
        return BlkStatus.Ok;
    }

    /// <summary>
    /// Fences every submission queue: every write completed before this call is durable after it.
    /// <see cref="BlkStatus.IoError"/> if the device is unbound meanwhile (the queues it had not
    /// reached yet are not fenced).
    /// </summary>
    private BlkStatus Flush()
    {
        foreach (var q in _queues)
        {
            lock (q)
            {
                // Unbound while the flush waited for this queue (see DrainIfGone): its CPU may be
                // retired, and what is left to fence belongs to a device that is gone.
                if (_binding.IsGone)
                    return BlkStatus.IoError;
                q.Cpu.Sfence();
            }
        }
        return BlkStatus.Ok;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The source writes into the namespace through the queue's CPU as non-temporal stores
    /// (<see cref="Cpu.NtStoreFrom"/>), so the persistence and cost models see what a write bio of
    /// the same bytes would do. Poison under the range is cleared for the sectors the source filled
    /// (a sector it filled only in part keeps its poison: it still holds old bytes).
    /// </remarks>
    public BlkStatus WriteFrom(long offset, long length, IStoreSource source, BioFlags flags, out long written)
    {
        ArgumentNullException.ThrowIfNull(source);
        ThrowIfInCallout("WriteFrom");
        written = 0;
        using var activity = DriverDiagnostics.ActivitySource.StartActivity("pmem_write_from");
        var status = _binding.IsGone ? BlkStatus.IoError : ValidateRange(BioOp.Write, offset, length);
        if (status == BlkStatus.Ok && _room.Reserve(offset, length) is var roomError and not 0)
            status = HostRoom.StatusOf(roomError);
        if (status == BlkStatus.Ok)
        {
            if ((flags & BioFlags.PreFlush) != 0)
                Flush();
            bool poisoned = HasBadBlocks(offset, length);
            long pa = Namespace.PhysicalAddress + offset;
            var q = EnterQueue();
            try
            {
                if (_binding.IsGone)
                    return Unbound(activity, BioOp.Write, offset, length);
                var cpu = q.Cpu;
                var outer = t_calloutRegion;
                t_calloutRegion = _region;
                try
                {
                    while (written < length)
                    {
                        int piece = (int)Math.Min(length - written, 1 << 30);
                        int n = cpu.NtStoreFrom(pa + written, piece, source);
                        written += n;
                        if (n < piece)
                            break;
                    }
                }
                finally
                {
                    t_calloutRegion = outer;
                }
                if ((flags & BioFlags.Fua) != 0)
                    cpu.Sfence();
            }
            finally
            {
                Monitor.Exit(q);
            }
            long whole = written - written % Bio.SectorSize;
            if (poisoned && whole > 0 && !ClearPoison(offset, whole))
                status = BlkStatus.IoError;     // written, but its sectors stay bad: reads fail rather than return them
        }
        AccountCopy(activity, BioOp.Write, offset, length, written, status);
        return status;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The sink takes the bytes as loads of the queue's CPU (<see cref="Cpu.LoadTo"/>), so the cost
    /// model sees what a read bio of them would cost. A range the badblocks list knows fails before
    /// the sink sees anything, as <c>pmem_do_read</c> does; poison found by the load itself (injected
    /// after that check) is an I/O error too.
    /// </remarks>
    public BlkStatus ReadTo(long offset, long length, ILoadSink sink, out long read)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ThrowIfInCallout("ReadTo");
        read = 0;
        using var activity = DriverDiagnostics.ActivitySource.StartActivity("pmem_read_to");
        var status = _binding.IsGone ? BlkStatus.IoError
            : offset < 0 || length < 0 ? BlkStatus.Invalid
            : (length != 0 && offset > Limits.Capacity - length) || HasBadBlocks(offset, length) ? BlkStatus.IoError
            : BlkStatus.Ok;
        if (status == BlkStatus.Ok && _room.ForReads && _room.Reserve(offset, length) is var roomError and not 0)
            status = HostRoom.StatusOf(roomError);
        if (status == BlkStatus.Ok)
        {
            long pa = Namespace.PhysicalAddress + offset;
            var q = EnterQueue();
            try
            {
                if (_binding.IsGone)
                    return Unbound(activity, BioOp.Read, offset, length);
                var outer = t_calloutRegion;
                t_calloutRegion = _region;
                try
                {
                    while (read < length)
                    {
                        int piece = (int)Math.Min(length - read, 1 << 30);
                        int n = q.Cpu.LoadTo(pa + read, piece, sink);
                        read += n;
                        if (n < piece)
                            break;
                    }
                }
                catch (MachineCheckException)
                {
                    status = BlkStatus.IoError;
                }
                finally
                {
                    t_calloutRegion = outer;
                }
            }
            finally
            {
                Monitor.Exit(q);
            }
        }
        AccountCopy(activity, BioOp.Read, offset, length, read, status);
        return status;
    }

    // Refuses I/O that a WriteFrom source or ReadTo sink submits to a device of the region it is
    // copying for: it would wait for the locks its own thread holds (see the class remarks).
    private void ThrowIfInCallout(string what)
    {
        if (t_calloutRegion == _region)
            ThrowReentered(what);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowReentered(string what) =>
        throw new LockRecursionException(
            $"{Name}: {what} submitted from inside the store source of a WriteFrom or the load sink of a ReadTo on {_region.Name}, " +
            "whose lock that thread holds; a source or sink may only copy bytes (submit the I/O after the call returns)");

    // A WriteFrom or ReadTo that found the device unbound once on its queue: nothing moved.
    private static BlkStatus Unbound(System.Diagnostics.Activity? activity, BioOp op, long offset, long length)
    {
        AccountCopy(activity, op, offset, length, 0, BlkStatus.IoError);
        return BlkStatus.IoError;
    }

    // The trace tags and metrics of a WriteFrom or ReadTo: one bio of its op, the bytes it moved.
    private static void AccountCopy(System.Diagnostics.Activity? activity, BioOp op, long offset, long length, long done, BlkStatus status)
    {
        if (activity != null)
        {
            activity.SetTag("sector", offset / Bio.SectorSize);
            activity.SetTag("size", length);
            activity.SetTag("done", done);
            activity.SetTag("status", status.ToString());
        }
        if (DriverDiagnostics.Bios.Enabled)
            DriverDiagnostics.Bios.Add(1, new KeyValuePair<string, object?>("op", op), new KeyValuePair<string, object?>("status", status));
        if (done > 0)
            (op == BioOp.Read ? DriverDiagnostics.BytesRead : DriverDiagnostics.BytesWritten).Add(done);
    }

    private BlkStatus DoRead(in Bio bio)
    {
        if (bio.Size == 0)
            return BlkStatus.Ok;
        // pmem_do_read refuses a range the badblocks list knows before touching it.
        if (HasBadBlocks(bio.Offset, bio.Size))
            return BlkStatus.IoError;
        long pa = Namespace.PhysicalAddress + bio.Offset;
        var q = EnterQueue();
        try
        {
            // Unbound while the bio waited for its queue (see DrainIfGone).
            if (_binding.IsGone)
                return BlkStatus.IoError;
            try
            {
                if (!bio.IsVectored)
                    q.Cpu.Load(pa, bio.Buffer);
                else
                {
                    foreach (var segment in bio.Vectors)
                    {
                        if (!segment.IsEmpty)
                            q.Cpu.Load(pa, MemoryMarshal.AsMemory(segment).Span);
                        pa += segment.Length;
                    }
                }
            }
            catch (MachineCheckException)
            {
                // Poison injected after the badblocks check: the copy_mc path reports it as EIO.
                return BlkStatus.IoError;
            }
        }
        finally
        {
            Monitor.Exit(q);
        }
        return BlkStatus.Ok;
    }

    private BlkStatus DoWrite(in Bio bio)
    {
        if ((bio.Flags & BioFlags.PreFlush) != 0)
            Flush();
        long pa = Namespace.PhysicalAddress + bio.Offset;
        var q = EnterQueue();
        try
        {
            // Unbound while the bio waited for its queue or its preflush (see DrainIfGone).
            if (_binding.IsGone)
                return BlkStatus.IoError;
            if (bio.Size > 0 && HasBadBlocks(bio.Offset, bio.Size) && !ClearPoison(bio.Offset, bio.Size))
                return BlkStatus.IoError;
            var cpu = q.Cpu;
            // FUA: the last store of the bio is fused with the fence (Cpu.Persist is ntstore +
            // sfence in one step: the same instructions and modeled cost, less bookkeeping).
            bool fua = (bio.Flags & BioFlags.Fua) != 0;
            if (bio.Op != BioOp.Write)
                WriteZeroes(cpu, pa, bio.Size, fua);
            else if (!bio.IsVectored)
            {
                // An empty bio has no address (it may start anywhere, even past the device end).
                if (!bio.Buffer.IsEmpty)
                    Store(cpu, pa, bio.Buffer, fua);
            }
            else
            {
                var segments = bio.Vectors;
                var position = segments.Start;
                while (segments.TryGet(ref position, out var segment))
                {
                    bool last = position.GetObject() == null;
                    // An empty segment has no address (it may sit past the device end).
                    if (!segment.IsEmpty)
                        Store(cpu, pa, segment.Span, fua && last);
                    else if (fua && last)
                        cpu.Sfence();
                    pa += segment.Length;
                }
            }
            if (fua && bio.Size == 0)
                cpu.Sfence();
        }
        finally
        {
            Monitor.Exit(q);
        }
        return BlkStatus.Ok;
    }

    private static void Store(Cpu cpu, long pa, ReadOnlySpan<byte> data, bool fence)
    {
        if (fence)
            cpu.Persist(pa, data);
        else
            cpu.NtStore(pa, data);
    }

    private static void WriteZeroes(Cpu cpu, long pa, long length, bool fence)
    {
        while (length > 0)
        {
            int n = (int)Math.Min(length, s_zeroes.Length);
            Store(cpu, pa, s_zeroes.AsSpan(0, n), fence && n == length);
            pa += n;
            length -= n;
        }
    }

    // The platform's clear-error command over the sectors of the range, then the badblocks list.
    // Clears the poison of [offset, +length) of the namespace, as a write over it does. False if the
    // badblocks file beside the image could not record that (another process holds the image's
    // lock, no room, no permission): the poison then stays, in the list and the file, and the
    // write fails with EIO, as pmem_do_write does when pmem_clear_poison fails.
    private bool ClearPoison(long offset, long length)
    {
        try
        {
            _region.Poison.Clear(Namespace.Offset + offset, length);
        }
        catch (NamespaceException)
        {
            return false;
        }
        DriverDiagnostics.PoisonCleared.Add(length);
        return true;
    }

    // The submission queue a bio runs on, entered (its monitor held; the caller exits it): the
    // queue of the processor the thread runs on, as blk-mq maps CPUs to hardware contexts, or
    // else the first that is free, so that bios submitted at the same time (say, by two NBD
    // connections) do not wait for each other while a queue is idle. Only when every queue is
    // busy does the bio wait, for its processor's.
    private SubmissionQueue EnterQueue()
    {
        var queues = _queues;
        int home = (int)((uint)Thread.GetCurrentProcessorId() % (uint)queues.Length);
        for (int i = 0, k = home; i < queues.Length; i++)
        {
            if (Monitor.TryEnter(queues[k]))
                return queues[k];
            if (++k == queues.Length)
                k = 0;
        }
        Monitor.Enter(queues[home]);
        return queues[home];
    }

    // ------------------------------------------------------------------ DAX

    /// <inheritdoc/>
    public Errno DirectAccess(long pgoff, long nrPages, DaxAccessMode mode, out DaxExtent extent)
    {
        using var activity = DriverDiagnostics.ActivitySource.StartActivity("pmem_dax_direct_access");
        DriverDiagnostics.DirectAccess.Add(1);
        extent = default;
        var error = DirectAccessCore(pgoff, nrPages, mode, out extent);
        if (activity != null)
        {
            activity.SetTag("pgoff", pgoff);
            activity.SetTag("nr_pages", nrPages);
            activity.SetTag("mode", mode.ToString());
            activity.SetTag("avail", extent.Pages);
            activity.SetTag("errno", error.ToString());
        }
        return error;
    }

    private Errno DirectAccessCore(long pgoff, long nrPages, DaxAccessMode mode, out DaxExtent extent)
    {
        extent = default;
        if (_binding.IsGone)
            return Errno.ENXIO;     // dax_direct_access: the dax device is no longer alive
        if (nrPages < 0)
            return Errno.EINVAL;
        if (pgoff < 0 || pgoff >= PageCount)
            return Errno.ERANGE;
        long avail = PageCount - pgoff;
        long offset = pgoff << PageShift;
        long asked = Math.Min(nrPages, avail);
        if (asked > 0 && !_region.Poison.IsEmpty
            && _region.Poison.TryFindPoison(Namespace.Offset + offset, asked << PageShift, out long firstBad))
        {
            if (mode != DaxAccessMode.RecoveryWrite)
                return Errno.EIO;
            // The recovery stride is a page: hand out the pages up to and including the one
            // that holds the first bad sector's start, at least one.
            long goodBytes = firstBad - (Namespace.Offset + offset);
            avail = Math.Max(1, (goodBytes + PageSize - 1) >> PageShift);
        }
        else if (!_region.Poison.IsEmpty)
        {
            // With bad blocks elsewhere, only the requested range is known good, and dax_direct_access
            // turns no pages available (a request for none) into ERANGE.
            avail = asked;
            if (avail == 0)
                return Errno.ERANGE;
        }
        long pages = Math.Min(avail, nrPages);
        // Room in the image under the pages handed out (a sparse image on a full file system): a
        // store through the window into a hole the file system cannot fill would end the process
        // with SIGBUS, and a store has no way to report an error. Reserved here rather than on a
        // window's first store to each chunk, so that Store, Flush and Sfence stay free of checks;
        // this costs a bit test per 64 KiB chunk, and a syscall only at a chunk's first use. The
        // driver cannot tell a caller that will only load from one that will store, so a writable
        // window is reserved whole; a read-only one only where loads allocate too (tmpfs). What
        // has room is handed out (fewer pages than asked if need be); not even the first page:
        // the error a write bio there gets (ENOSPC, or EIO when the host failed otherwise).
        if (pages > 0 && (!Limits.ReadOnly || _room.ForReads))
        {
            long room = _room.ReservePrefix(offset, pages << PageShift, out var roomError);
            if (room < PageSize)
                return roomError;
            pages = room >> PageShift;
        }
        extent = new DaxExtent(pages, (Namespace.PhysicalAddress + offset) >> PageShift,
            new DaxWindow(_space, _binding, Namespace.PhysicalAddress + offset, pages << PageShift, writable: !Limits.ReadOnly));
        return 0;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Runs on the caller's CPU, holding a submission queue as a bio does, so that an unbind
    /// waits for it (see <see cref="DrainIfGone"/>) and one that waited for its queue through the
    /// unbind fails with ENXIO, touching nothing.
    /// </remarks>
    public Errno ZeroPageRange(long pgoff, long nrPages)
    {
        if (_binding.IsGone)
            return Errno.ENXIO;     // dax_zero_page_range: the dax device is no longer alive
        if (nrPages < 0 || pgoff < 0 || pgoff > PageCount - nrPages)
            return Errno.EIO;
        if (Limits.ReadOnly)
            return Errno.EROFS;
        long offset = pgoff << PageShift, length = nrPages << PageShift;
        if (_room.Reserve(offset, length) is var roomError and not 0)
            return roomError;
        var q = EnterQueue();
        try
        {
            // Unbound while it waited for its queue (see DrainIfGone).
            if (_binding.IsGone)
                return Errno.ENXIO;
            if (HasBadBlocks(offset, length) && !ClearPoison(offset, length))
                return Errno.EIO;
            var cpu = _space.CurrentCpu;
            WriteZeroes(cpu, Namespace.PhysicalAddress + offset, length, fence: true);
            if (length == 0)
                cpu.Sfence();
        }
        finally
        {
            Monitor.Exit(q);
        }
        return 0;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Runs on the caller's CPU, holding a submission queue as a bio does, so that an unbind
    /// waits for it (see <see cref="DrainIfGone"/>) and one that waited for its queue through the
    /// unbind writes nothing (returns 0).
    /// </remarks>
    public long RecoveryWrite(long offset, ReadOnlySpan<byte> source)
    {
        if (offset < 0 || offset > Namespace.Size - source.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"[{offset}, +{source.Length}) is outside {Name} ({Namespace.Size} bytes)");
        if (_binding.IsGone || Limits.ReadOnly || source.IsEmpty || _room.Reserve(offset, source.Length) != 0)
            return 0;
        var q = EnterQueue();
        try
        {
            // Unbound while it waited for its queue (see DrainIfGone).
            if (_binding.IsGone)
                return 0;
            // As pmem_recovery_write, look at the whole pages the write touches: a page with poison
            // anywhere in it stays unreadable through DirectAccess until it is rewritten whole.
            long first = offset & ~(long)(PageSize - 1);
            long end = Math.Min((offset + source.Length + PageSize - 1) & ~(long)(PageSize - 1), Namespace.Size);
            if (HasBadBlocks(first, end - first))
            {
                // Poison can only be cleared a whole page at a time.
                if (offset % PageSize != 0 || source.Length % PageSize != 0 || !ClearPoison(offset, source.Length))
                    return 0;
            }
            _space.CurrentCpu.NtStore(Namespace.PhysicalAddress + offset, source);
        }
        finally
        {
            Monitor.Exit(q);
        }
        return source.Length;
    }

    /// <summary>One blk-mq hardware context: an emulated CPU that executes the bios submitted to it, one at a time.</summary>
    private sealed class SubmissionQueue(Cpu cpu)
    {
        public Cpu Cpu { get; } = cpu;
    }
}
