using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Trans;

/// <summary>
/// A filesystem made by our mkfs on an in-memory pmem device (or an image file) and opened by
/// the metadata core, for tests of buffers, transactions, B+trees and allocators.
/// </summary>
internal sealed class MetadataTestFs : IDisposable
{
    public const long MiB = 1 << 20;

    public static readonly Guid Uuid = Guid.Parse("6d1b3f0e-2c4a-4e8b-9f7d-1a2b3c4d5e6f");

    private MetadataTestFs(FsTestDevice device, XfsMkfsLayout? layout, XfsMountOptions options)
    {
        Device = device;
        Layout = layout;
        Options = options;
        Mount = XfsMount.Open(device.Device, options);
    }

    public FsTestDevice Device { get; }

    public XfsMkfsLayout? Layout { get; }

    public XfsMountOptions Options { get; }

    public XfsMount Mount { get; private set; }

    /// <summary>mkfs on a new in-memory device of <paramref name="size"/> bytes, then open it.</summary>
    public static MetadataTestFs Create(long size = 64 * MiB, uint agcount = 2, bool reflink = true, XfsMountOptions? options = null)
    {
        var device = FsTestDevice.InMemory(size);
        var layout = XfsMkfs.Format(device.Device, new XfsMkfsOptions { AgCount = agcount, Reflink = reflink, Uuid = Uuid });
        return new MetadataTestFs(device, layout, options ?? new XfsMountOptions { GenerationSeed = 1 });
    }

    /// <summary>mkfs on the image file <paramref name="path"/> (which must exist at its full size), then open it.</summary>
    public static MetadataTestFs CreateOnImage(string path, uint agcount = 2, bool reflink = true, XfsMountOptions? options = null)
    {
        var device = FsTestDevice.Image(path);
        var layout = XfsMkfs.Format(device.Device, new XfsMkfsOptions { AgCount = agcount, Reflink = reflink, Uuid = Uuid, Force = true });
        return new MetadataTestFs(device, layout, options ?? new XfsMountOptions { GenerationSeed = 1 });
    }

    /// <summary>Opens the filesystem already on the image file <paramref name="path"/>.</summary>
    public static MetadataTestFs Open(string path, XfsMountOptions? options = null) =>
        new(FsTestDevice.Image(path), null, options ?? new XfsMountOptions { GenerationSeed = 1 });

    /// <summary>Opens the filesystem again with an empty buffer cache, so everything is read back from the device.</summary>
    public void Remount() => Mount = XfsMount.Open(Device.Device, Options);

    public XfsTransaction Begin(uint blocks = 0) => XfsTransaction.Begin(Mount, blocks);

    public void Dispose() => Device.Dispose();
}
