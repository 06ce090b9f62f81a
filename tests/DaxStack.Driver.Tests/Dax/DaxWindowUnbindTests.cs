using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Errors;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;
using DaxStack.Driver.DeviceDax;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Tests.Dax;

/// <summary>
/// A DAX window handed out before its device was unbound (its namespace destroyed or
/// reconfigured) refuses every access with <see cref="DaxDeviceGoneException"/>, so nothing of it
/// reaches a namespace made over the same range afterwards; a window of a device still bound
/// keeps working whatever happens to the region's other namespaces.
/// </summary>
public class DaxWindowUnbindTests
{
    private const int Page = 4096;
    private const long NsSize = 2L << 20;
    private const int Pages = 16;

    public enum Unbind
    {
        Destroy,
        Reconfigure,
    }

    // A region of two 2 MiB fsdax namespaces (or devdax for the first), the first at offset 0.
    private static (NvdimmBus Bus, BusRegion Region, NvdimmNamespace First, NvdimmNamespace Second) TwoNamespaces(NamespaceMode firstMode = NamespaceMode.Fsdax)
    {
        var bus = new NvdimmBus(TestDevice.Catalog());
        var region = bus.AddMemory(new NativeMedia(8L << 20));
        var first = region.ReconfigureNamespace(region.Namespaces[0].Name,
            new NamespaceSpec { Mode = firstMode, Size = NsSize, Align = Page }, force: true);
        var second = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = NsSize, Align = Page });
        return (bus, region, first, second);
    }

    // Unbinds the device of 'ns' as 'how' says and returns the fsdax namespace now over its range.
    private static NvdimmNamespace Replace(BusRegion region, NvdimmNamespace ns, Unbind how)
    {
        var spec = new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = NsSize, Align = Page };
        NvdimmNamespace made;
        if (how == Unbind.Reconfigure)
            made = region.ReconfigureNamespace(ns.Name, spec, force: true);
        else
        {
            region.DestroyNamespace(ns.Name, force: true);
            made = region.CreateNamespace(spec);
        }
        Assert.That(made.PhysicalAddress, Is.EqualTo(ns.PhysicalAddress), "the new namespace is over the old range");
        return made;
    }

    // Every kind of access through the window, each of which must be refused.
    private static readonly (string Name, Action<DaxWindow> Access)[] s_accesses =
    [
        ("Load", w => w.Load(0, new byte[64])),
        ("LoadMc", w => w.LoadMc(0, new byte[64])),
        ("LoadUInt64", w => w.LoadUInt64(8)),
        ("Store", w => w.Store(0, new byte[64])),
        ("StoreUInt64", w => w.StoreUInt64(8, 0x1122334455667788)),
        ("NtStore", w => w.NtStore(Page, new byte[Page])),
        ("Persist", w => w.Persist(2 * Page, new byte[64])),
        ("Flush clflush", w => w.Flush(FlushKind.Clflush, 0, Page)),
        ("Flush clflushopt", w => w.Flush(FlushKind.Clflushopt, 0, Page)),
        ("WriteBack", w => w.WriteBack(0, Page)),
        ("Sfence", w => w.Sfence()),
        ("Slice then Store", w => w.Slice(Page, Page).Store(0, new byte[64])),
    ];

    private static void AssertEveryAccessIsRefused(DaxWindow window, NvdimmNamespace old)
    {
        Assert.That(window.IsDeviceGone, Is.True);
        Assert.Multiple(() =>
        {
            foreach (var (name, access) in s_accesses)
            {
                var e = Assert.Throws<DaxDeviceGoneException>(() => access(window), name);
                Assert.That(e!.NamespaceName, Is.EqualTo(old.Name), name);
                Assert.That(e.Message, Does.Contain(old.Name).And.Contain("destroyed or reconfigured").And.Contain("unbound"), name);
            }
        });
    }

    // The new namespace's first pages hold 'data', in the CPU view and durably.
    private static void AssertHolds(NvdimmBus bus, BusRegion region, NvdimmNamespace ns, PmemDevice device, byte[] data)
    {
        var seen = new byte[data.Length];
        Assert.That(device.Read(0, seen), Is.EqualTo(BlkStatus.Ok));
        Assert.That(seen, Is.EqualTo(data), "the new namespace's bytes, as loads see them");
        bus.Space.Crash(CrashPolicy.AllPersisted);
        var persisted = new byte[data.Length];
        region.Region.ReadPersisted(ns.Offset, persisted);
        Assert.That(persisted, Is.EqualTo(data), "the new namespace's bytes, after a power failure");
    }

    [TestCase(Unbind.Destroy)]
    [TestCase(Unbind.Reconfigure)]
    public void AWindowFromBeforeTheUnbindRefusesEveryAccessAndLeavesTheNewNamespaceAlone(Unbind how)
    {
        var (bus, region, first, _) = TwoNamespaces();
        using (bus)
        {
            var old = new PmemDriver().AttachPmem(region, first);
            Assert.That(old.DirectAccess(0, Pages, DaxAccessMode.Access, out var extent), Is.EqualTo((Errno)0));
            var window = extent.Window;
            // It works while the device is bound, and leaves stores unfenced in this CPU's cache.
            window.Store(0, TestDevice.Pattern(Page, 1));
            window.WriteBack(0, Page);
            window.Sfence();
            window.Store(Page, TestDevice.Pattern(Page, 2));
            Assert.That(window.IsDeviceGone, Is.False);

            var made = Replace(region, first, how);
            var device = new PmemDriver().AttachPmem(region, made);
            var data = TestDevice.Pattern(Pages * Page, 3);
            Assert.That(device.Write(0, data, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));

            AssertEveryAccessIsRefused(window, first);
            AssertHolds(bus, region, made, device, data);
        }
    }

    [TestCase(Unbind.Destroy)]
    [TestCase(Unbind.Reconfigure)]
    public void ADeviceDaxWindowFromBeforeTheUnbindRefusesEveryAccessAndLeavesTheNewNamespaceAlone(Unbind how)
    {
        var (bus, region, first, _) = TwoNamespaces(NamespaceMode.Devdax);
        using (bus)
        {
            var dax = new PmemDriver().AttachDeviceDax(region, first);
            const long Start = 1L << 30;
            Assert.That(dax.Mmap(Start, NsSize, 0, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var mapping), Is.EqualTo((Errno)0));
            var windows = new List<DaxWindow>();
            for (int p = 0; p < Pages; p++)
            {
                Assert.That(mapping!.Fault(Start + p * Page, PageEntrySize.Pte, write: true, out _), Is.EqualTo(DaxFaultStatus.NoPage));
                Assert.That(mapping.TryGetWindow(Start + p * Page, out var w), Is.True);
                w.StoreUInt64(0, 0xDEAD);
                windows.Add(w);
            }

            var made = Replace(region, first, how);
            var device = new PmemDriver().AttachPmem(region, made);
            var data = TestDevice.Pattern(Pages * Page, 4);
            Assert.That(device.Write(0, data, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));

            Assert.That(mapping!.TryGetWindow(Start, out _), Is.False, "no window is handed out any more");
            // A device-dax window is one page here: the accesses at other pages of it are out of range.
            AssertEveryAccessIsRefused(windows[0], first);
            foreach (var w in windows)
                Assert.Throws<DaxDeviceGoneException>(() => w.StoreUInt64(0, 0xBAD));
            AssertHolds(bus, region, made, device, data);
        }
    }

    [Test]
    public void AWindowKeepsWorkingWhenAnotherNamespaceOfTheRegionIsDestroyedOrReconfigured()
    {
        var (bus, region, first, second) = TwoNamespaces();
        using (bus)
        {
            var device = new PmemDriver().AttachPmem(region, first);
            var other = new PmemDriver().AttachPmem(region, second);
            Assert.That(device.DirectAccess(0, Pages, DaxAccessMode.Access, out var extent), Is.EqualTo((Errno)0));
            Assert.That(other.DirectAccess(0, Pages, DaxAccessMode.Access, out var otherExtent), Is.EqualTo((Errno)0));
            var window = extent.Window;

            region.DestroyNamespace(second.Name, force: true);
            var third = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = NsSize, Align = Page });
            region.ReconfigureNamespace(third.Name, new NamespaceSpec { Mode = NamespaceMode.Raw }, force: true);

            var data = TestDevice.Pattern(Pages * Page, 5);
            Assert.Multiple(() =>
            {
                Assert.That(otherExtent.Window.IsDeviceGone, Is.True, "the destroyed namespace's window");
                Assert.That(window.IsDeviceGone, Is.False);
                Assert.DoesNotThrow(() =>
                {
                    window.Store(0, data);
                    window.WriteBack(0, data.Length);
                    window.Sfence();
                    window.Slice(Page, 64).StoreUInt64(0, 42);
                    window.Flush(FlushKind.Clflush, Page, 64);
                });
            });
            data.AsSpan(Page, 8).Clear();
            data[Page] = 42;
            var loaded = new byte[data.Length];
            window.Load(0, loaded);
            Assert.That(loaded, Is.EqualTo(data));
            bus.Space.Crash(CrashPolicy.Strict);
            var persisted = new byte[data.Length];
            region.Region.ReadPersisted(first.Offset, persisted);
            Assert.That(persisted, Is.EqualTo(data), "written back and fenced through the window");
        }
    }

    [Test]
    public void TheEmptyWindowStillSaysItIsEmpty()
    {
        DaxWindow window = default;
        Assert.Multiple(() =>
        {
            Assert.That(window.IsDeviceGone, Is.False);
            Assert.That(Assert.Throws<InvalidOperationException>(() => window.Store(0, new byte[8]))!.Message, Does.Contain("empty"));
            Assert.That(Assert.Throws<InvalidOperationException>(() => window.Sfence())!.Message, Does.Contain("empty"));
        });
    }
}
