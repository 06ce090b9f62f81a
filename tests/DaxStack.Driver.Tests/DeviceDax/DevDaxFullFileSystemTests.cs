using System.Runtime.Versioning;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.DeviceDax;
using DaxStack.Driver.Pmem;
using DaxStack.Tests.Shared;

namespace DaxStack.Driver.Tests.DeviceDax;

/// <summary>
/// Device-dax on a sparse image whose file system fills up: a fault of a writable mapping makes
/// room in the image for its entry before installing it, so a store through the entry never meets
/// a hole the file system cannot fill (which would end the process with SIGBUS); with no room the
/// fault is SIGBUS (a status), and it works again once there is room. Needs a small tmpfs, so root
/// (ignored where mounting is not permitted).
/// </summary>
[UnsupportedOSPlatform("windows")]
public class DevDaxFullFileSystemTests
{
    private const int Page = 4096;
    private const long ImageSize = 8 << 20;
    private const long DaxSize = 4 << 20;

    private SmallFileSystem? _fs;

    [SetUp]
    public void SetUp() => _fs = SmallFileSystem.MountTemporary("daxstack-devdaxfull-", "1m");

    [TearDown]
    public void TearDown()
    {
        _fs?.Dispose();
        _fs = null;
    }

    private string Filler => _fs!.FillerPath;

    // A sparse 8 MiB image in the 1 MiB tmpfs with a 4 MiB devdax namespace (4 KiB alignment), and
    // a 256 KiB file beside it to free room later.
    private (NvdimmBus Bus, DevDax Dax) SparseDevdax()
    {
        string image = _fs!.SparseImageWithFiller(ImageSize);
        var bus = new NvdimmBus(TestDevice.Catalog());
        var region = bus.OpenImage(image);
        var ns = region.ReconfigureNamespace(region.Namespaces[0].Name,
            new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = DaxSize, Align = Page }, force: true);
        return (bus, new PmemDriver().AttachDeviceDax(region, ns));
    }

    [Test]
    public void AFaultWithNoRoomInTheImageIsSigbusAndWorksOnceThereIsRoom()
    {
        var (bus, dax) = SparseDevdax();
        using (bus)
        {
            Assert.That(dax.Mmap(0, DaxSize, 0, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var mapping), Is.EqualTo((Device.Errors.Errno)0));
            var map = mapping!;
            var data = TestDevice.Pattern(Page, 1);
            // Fault and fill page after page until a fault finds no room (without the room made
            // at fault time, a store here would end the process with SIGBUS instead).
            long address = 0;
            while (address < DaxSize && map.Fault(address, PageEntrySize.Pte, write: true, out _) == DaxFaultStatus.NoPage)
            {
                Assert.That(map.TryGetWindow(address, out var window), Is.True);
                window.Store(0, data);
                window.Flush(Device.Cost.FlushKind.Clwb, 0, Page);
                window.Sfence();
                address += Page;
            }
            Assert.Multiple(() =>
            {
                Assert.That(address, Is.GreaterThan(0).And.LessThan(DaxSize), "some faults had room, then the file system was full");
                Assert.That(address % (64 << 10), Is.Zero, "room is made a 64 KiB chunk at a time");
                Assert.That(map.Fault(address, PageEntrySize.Pte, write: true, out _), Is.EqualTo(DaxFaultStatus.SigBus));
                Assert.That(map.Fault(address, PageEntrySize.Pte, write: false, out _), Is.EqualTo(DaxFaultStatus.SigBus), "a read fault of a writable mapping installs a writable entry");
                Assert.That(map.TryGetWindow(address, out _), Is.False, "no entry was installed");
            });

            // What was stored before is intact.
            Assert.That(map.TryGetWindow(0, out var first), Is.True);
            var back = new byte[Page];
            first.Load(0, back);
            Assert.That(back, Is.EqualTo(data));

            File.Delete(Filler);
            Assert.That(map.Fault(address, PageEntrySize.Pte, write: true, out _), Is.EqualTo(DaxFaultStatus.NoPage), "room again");
            Assert.That(map.TryGetWindow(address, out var again), Is.True);
            again.Store(0, data);
            again.Load(0, back);
            Assert.That(back, Is.EqualTo(data));
        }
    }
}
