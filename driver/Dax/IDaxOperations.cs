using DaxStack.Device.Errors;

namespace DaxStack.Driver.Dax;

/// <summary>
/// Direct access to a device's memory in 4 KiB pages: translate a page offset to device
/// addresses, zero pages, and overwrite poisoned pages. Safe to call from several threads.
/// </summary>
/// <remarks>Models the kernel's <c>struct dax_operations</c> (direct_access, zero_page_range, recovery_write).</remarks>
public interface IDaxOperations
{
    /// <summary>Number of 4 KiB pages the device offers.</summary>
    long PageCount { get; }

    /// <summary>
    /// Maps up to <paramref name="nrPages"/> pages from page <paramref name="pgoff"/>. On success
    /// <paramref name="extent"/> says how many pages are contiguous and addressable from there
    /// (possibly fewer than asked: never past the device end or, when the device has bad blocks, past the request,
    /// nor past the room its backing store has), their first page frame number and a window for loads,
    /// stores, flushes and fences. The window
    /// works until the namespace is destroyed or reconfigured; from then on every access through
    /// it throws <see cref="DaxDeviceGoneException"/>.
    /// <para>
    /// On a device over an image file the pages handed out have room in the image before the
    /// window exists (the image's blocks under them are allocated, 64 KiB at a time, once per
    /// chunk), so that no store through the window can meet a hole of a sparse image that its file
    /// system cannot fill, which would end the process with SIGBUS. A writable window is covered
    /// whole, whether the caller stores or not; a read-only device's only where loads allocate too
    /// (an image on tmpfs). Ask for the pages you will touch: those are the ones given room.
    /// </para>
    /// Errors: ENXIO once the namespace has been destroyed or reconfigured (the dax device is dead),
    /// EINVAL for a negative count, ERANGE for a page offset at or past the end, EIO
    /// when the range holds poison (unless <paramref name="mode"/> is <see cref="DaxAccessMode.RecoveryWrite"/>,
    /// which hands out the pages up to the first bad one, or that one page), ENOSPC when the image
    /// file's file system has no room even for the first page (a sparse image on a full file
    /// system; the pages that had room are handed out when it runs out part-way).
    /// </summary>
    /// <remarks>Models <c>dax_direct_access</c> / <c>pmem_dax_direct_access</c>.</remarks>
    Errno DirectAccess(long pgoff, long nrPages, DaxAccessMode mode, out DaxExtent extent);

    /// <summary>
    /// Zeroes <paramref name="nrPages"/> pages from <paramref name="pgoff"/> durably (non-temporal
    /// stores and a fence), clearing any poison in them. EIO if the range is outside the device,
    /// ENXIO once the namespace has been destroyed or reconfigured (a destroy waits for one
    /// already under way).
    /// </summary>
    /// <remarks>Models <c>pmem_dax_zero_page_range</c>.</remarks>
    Errno ZeroPageRange(long pgoff, long nrPages);

    /// <summary>
    /// Writes <paramref name="source"/> at byte <paramref name="offset"/> of the device with
    /// non-temporal stores (durable after the caller's next fence). Where a page the range touches
    /// holds poison the write must cover whole pages: the poison is cleared and the data written; a
    /// write that only partly covers a poisoned page is left alone and 0 is returned, as it is once
    /// the namespace has been destroyed or reconfigured. Returns the bytes written.
    /// </summary>
    /// <remarks>Models <c>pmem_recovery_write</c>.</remarks>
    long RecoveryWrite(long offset, ReadOnlySpan<byte> source);
}
