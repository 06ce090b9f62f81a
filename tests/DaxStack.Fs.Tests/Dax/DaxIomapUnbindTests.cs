using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;
using DaxStack.Fs.Dax;
using DaxStack.Fs.Iomap;

namespace DaxStack.Fs.Tests.Dax;

/// <summary>
/// A DAX read or write whose namespace is destroyed between the driver's DirectAccess and the
/// copy through the window it handed out: the copy fails with ENXIO (what DirectAccess says from
/// then on), no exception of the driver escapes, and nothing reaches the namespace made over the
/// range afterwards.
/// </summary>
public class DaxIomapUnbindTests
{
    private const int Page = 4096;

    // The file's bytes are the device's, one to one.
    private sealed class IdentityIomapOps : IIomapOps
    {
        public IomapMapping Begin(long pos, long length, IomapFlags flags) => new(pos, length, IomapType.Mapped, pos);

        public void End(long pos, long length, long written, IomapFlags flags, in IomapMapping iomap)
        {
        }
    }

    // Runs 'unbind' once, after the first DirectAccess that succeeds has handed out its window.
    private sealed class UnbindAfterDirectAccess(IDaxOperations inner, Action unbind) : IDaxOperations
    {
        private Action? _unbind = unbind;

        public long PageCount => inner.PageCount;

        public Errno DirectAccess(long pgoff, long nrPages, DaxAccessMode mode, out DaxExtent extent)
        {
            var error = inner.DirectAccess(pgoff, nrPages, mode, out extent);
            if (error == 0)
                Interlocked.Exchange(ref _unbind, null)?.Invoke();
            return error;
        }

        public Errno ZeroPageRange(long pgoff, long nrPages) => inner.ZeroPageRange(pgoff, nrPages);

        public long RecoveryWrite(long offset, ReadOnlySpan<byte> source) => inner.RecoveryWrite(offset, source);
    }

    [Test]
    public void AWriteWhoseNamespaceIsDestroyedAfterDirectAccessFailsWithEnxioAndLeavesTheNewNamespaceAlone()
    {
        using var t = FsTestDevice.InMemory(1 << 20);
        var old = t.Device.Namespace;
        NvdimmNamespace? made = null;
        var dax = new UnbindAfterDirectAccess(t.Device, () =>
        {
            t.Region.DestroyNamespace(old.Name, force: true);
            made = t.Region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 1 << 20, Align = Page });
        });

        var error = DaxIomap.Write(dax, new IdentityIomapOps(), 0, Enumerable.Repeat((byte)0xAB, 2 * Page).ToArray(), out long done);

        Assert.That(error, Is.EqualTo(Errno.ENXIO));
        Assert.That(done, Is.Zero);
        Assert.That(made!.PhysicalAddress, Is.EqualTo(old.PhysicalAddress));
        var bytes = new byte[2 * Page];
        t.Region.Region.ReadPersisted(made.Offset, bytes);
        Assert.That(bytes, Is.All.Zero, "nothing of the write reached the new namespace");
    }

    [Test]
    public void AReadWhoseNamespaceIsReconfiguredAfterDirectAccessFailsWithEnxio()
    {
        using var t = FsTestDevice.InMemory(1 << 20);
        Assert.That(t.Device.Write(0, Enumerable.Repeat((byte)0x5A, Page).ToArray(), BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));
        var old = t.Device.Namespace;
        var dax = new UnbindAfterDirectAccess(t.Device,
            () => t.Region.ReconfigureNamespace(old.Name, new NamespaceSpec { Mode = NamespaceMode.Fsdax, Align = Page }, force: true));
        var buffer = new byte[Page];

        var error = DaxIomap.Read(dax, new IdentityIomapOps(), 0, buffer, out long done);

        Assert.That(error, Is.EqualTo(Errno.ENXIO));
        Assert.That(done, Is.Zero);
        Assert.That(buffer, Is.All.Zero, "nothing was copied from the range");
    }
}
