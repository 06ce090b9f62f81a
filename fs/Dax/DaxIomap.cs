using DaxStack.Device.Errors;
using DaxStack.Device.Poison;
using DaxStack.Driver.Dax;
using DaxStack.Fs.Iomap;

namespace DaxStack.Fs.Dax;

/// <summary>
/// Generic DAX file I/O: copies straight between a caller's buffer and device memory, range by
/// range as the filesystem's <see cref="IIomapOps"/> maps the file, with no page cache. Reads of
/// holes and unwritten ranges give zeroes; a read that meets poison stops short (or fails with
/// EIO when nothing was read), as the kernel's machine-check-safe copy does. Writes use
/// non-temporal stores (the pmem driver's flushcache copy) and end with a fence on the writing
/// CPU: the kernel's write returns through lock releases that drain the write-combining
/// buffers, so written data is in the persistence domain when the call returns, while the
/// metadata that makes it reachable (new blocks, the file size) waits for a log force. A write
/// over poisoned pages goes through the driver's recovery write, which clears whole pages.
/// <para>
/// A window from <see cref="IDaxOperations.DirectAccess"/> is used for one copy and never kept.
/// If the namespace is destroyed or reconfigured between the two, the window refuses the copy
/// (<see cref="DaxDeviceGoneException"/>) and it ends with ENXIO, as DirectAccess itself then
/// reports (the kernel holds <c>dax_read_lock</c> over the copy instead, so that <c>kill_dax</c>
/// waits for it).
/// </para>
/// </summary>
/// <remarks>Models the kernel's fs/dax.c: <c>dax_iomap_rw</c> / <c>dax_iomap_iter</c> (with <c>dax_copy_to_iter</c>, <c>dax_copy_from_iter</c>, <c>DAX_RECOVERY_WRITE</c>), and <c>dax_zero_range</c> / <c>dax_memzero</c>.</remarks>
public static class DaxIomap
{
    /// <summary>Success (errno 0).</summary>
    public const Errno Ok = 0;

    private const int PageShift = 12;
    private const long PageSize = 1L << PageShift;
    private static readonly byte[] s_zeroes = new byte[PageSize];

    /// <summary>
    /// Reads <paramref name="buffer"/>.Length bytes of the file from byte <paramref name="pos"/>
    /// (the caller has clipped the range to the file size). Returns OK with the byte count, or
    /// the first error when no byte could be read.
    /// </summary>
    public static Errno Read(IDaxOperations dax, IIomapOps ops, long pos, Span<byte> buffer, out long done)
    {
        ArgumentNullException.ThrowIfNull(dax);
        ArgumentNullException.ThrowIfNull(ops);
        done = 0;
        while (done < buffer.Length)
        {
            long at = pos + done;
            var map = ops.Begin(at, buffer.Length - done, IomapFlags.Dax);
            int n = (int)Math.Min(map.End - at, buffer.Length - done);
            var dest = buffer.Slice((int)done, n);
            long copied = n;
            Errno error = Ok;
            if (map.Type == IomapType.Mapped)
                error = CopyFromDevice(dax, map.AddressOf(at), dest, out copied);
            else
                dest.Clear();
            ops.End(at, n, copied, IomapFlags.Dax, map);
            done += copied;
            if (error != Ok)
                return done > 0 ? Ok : error;
        }
        return Ok;
    }

    /// <summary>
    /// Writes <paramref name="source"/> at file byte <paramref name="pos"/>; the filesystem's
    /// <see cref="IIomapOps.Begin"/> allocates what is not yet backed. Returns OK with the byte
    /// count (short when storage ran out part-way), or the first error when nothing was written.
    /// </summary>
    public static Errno Write(IDaxOperations dax, IIomapOps ops, long pos, ReadOnlySpan<byte> source, out long done)
    {
        ArgumentNullException.ThrowIfNull(dax);
        ArgumentNullException.ThrowIfNull(ops);
        done = 0;
        Errno error = Ok;
        while (done < source.Length)
        {
            long at = pos + done;
            IomapMapping map;
            try
            {
                map = ops.Begin(at, source.Length - done, IomapFlags.Write | IomapFlags.Dax);
            }
            catch (Exception) when (done > 0)
            {
                // Out of space (or another error) after some bytes went in: a short write.
                break;
            }
            if (map.Type != IomapType.Mapped)
                throw new InvalidOperationException($"iomap_begin for a write returned a {map.Type} mapping at {at}");
            int n = (int)Math.Min(map.End - at, source.Length - done);
            error = CopyToDevice(dax, map.AddressOf(at), source.Slice((int)done, n), out long copied);
            ops.End(at, n, copied, IomapFlags.Write | IomapFlags.Dax, map);
            done += copied;
            if (error != Ok)
                break;
        }
        if (done > 0)
            Fence(dax);
        return done > 0 ? Ok : error;
    }

    /// <summary>
    /// Zeroes file bytes <paramref name="pos"/>..+<paramref name="length"/> where they are backed
    /// by written storage (holes and unwritten ranges read as zeroes already), durably.
    /// </summary>
    public static Errno Zero(IDaxOperations dax, IIomapOps ops, long pos, long length)
    {
        ArgumentNullException.ThrowIfNull(dax);
        ArgumentNullException.ThrowIfNull(ops);
        long done = 0;
        bool stored = false;
        while (done < length)
        {
            long at = pos + done;
            var map = ops.Begin(at, length - done, IomapFlags.Zero | IomapFlags.Dax);
            long n = Math.Min(map.End - at, length - done);
            Errno error = Ok;
            if (map.Type == IomapType.Mapped)
            {
                long addr = map.AddressOf(at);
                for (long z = 0; z < n && error == Ok;)
                {
                    int chunk = (int)Math.Min(PageSize - ((addr + z) & (PageSize - 1)), n - z);
                    error = CopyToDevice(dax, addr + z, s_zeroes.AsSpan(0, chunk), out long copied);
                    z += copied;
                }
                stored = true;
            }
            ops.End(at, n, error == Ok ? n : 0, IomapFlags.Zero | IomapFlags.Dax, map);
            if (error != Ok)
                return error;
            done += n;
        }
        if (stored)
            Fence(dax);
        return Ok;
    }

    private static Errno CopyFromDevice(IDaxOperations dax, long address, Span<byte> destination, out long copied)
    {
        copied = 0;
        while (copied < destination.Length)
        {
            long addr = address + copied;
            long pageOffset = addr & (PageSize - 1);
            long pages = (pageOffset + destination.Length - copied + PageSize - 1) >> PageShift;
            var error = dax.DirectAccess(addr >> PageShift, pages, DaxAccessMode.Access, out var extent);
            if (error != Ok)
                return error;
            int n = (int)Math.Min(extent.Pages * PageSize - pageOffset, destination.Length - copied);
            long got;
            try
            {
                got = extent.Window.LoadMc(pageOffset, destination.Slice((int)copied, n));
            }
            catch (DaxDeviceGoneException)
            {
                return Errno.ENXIO;     // unbound since DirectAccess: what DirectAccess would say now (see the class remarks)
            }
            copied += got;
            if (got < n)
                return Errno.EIO;
        }
        return Ok;
    }

    private static Errno CopyToDevice(IDaxOperations dax, long address, ReadOnlySpan<byte> source, out long copied)
    {
        copied = 0;
        while (copied < source.Length)
        {
            long addr = address + copied;
            long pageOffset = addr & (PageSize - 1);
            long pages = (pageOffset + source.Length - copied + PageSize - 1) >> PageShift;
            var error = dax.DirectAccess(addr >> PageShift, pages, DaxAccessMode.Access, out var extent);
            if (error == Errno.EIO)
            {
                // DAX_RECOVERY_WRITE: whole poisoned pages can be rewritten, clearing the poison.
                long n = dax.RecoveryWrite(addr, source[(int)copied..]);
                if (n <= 0)
                    return Errno.EIO;
                copied += n;
                continue;
            }
            if (error != Ok)
                return error;
            int len = (int)Math.Min(extent.Pages * PageSize - pageOffset, source.Length - copied);
            try
            {
                extent.Window.NtStore(pageOffset, source.Slice((int)copied, len));
            }
            catch (MachineCheckException)
            {
                return Errno.EIO;
            }
            catch (DaxDeviceGoneException)
            {
                return Errno.ENXIO;     // unbound since DirectAccess: what DirectAccess would say now (see the class remarks)
            }
            copied += len;
        }
        return Ok;
    }

    // The drain at the end of the write (see the class remarks): a fence on this thread's CPU.
    // A device unbound meanwhile has nothing left to drain for this file.
    private static void Fence(IDaxOperations dax)
    {
        if (dax.DirectAccess(0, 1, DaxAccessMode.Access, out var extent) != Ok)
            return;
        try
        {
            extent.Window.Sfence();
        }
        catch (DaxDeviceGoneException)
        {
        }
    }

}
