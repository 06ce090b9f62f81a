using DaxStack.Device.Crash;
using DaxStack.Device.Errors;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.DeviceDax;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Tests.DeviceDax;

/// <summary>device-dax: mmap only, mappings and faults at the namespace's alignment.</summary>
public class DevDaxTests
{
    private const long Mib2 = 2L << 20;

    private static (NvdimmBus Bus, BusRegion Region, DevDax Dax) Create(long align, long size = 16L << 20)
    {
        var bus = new NvdimmBus(TestDevice.Catalog());
        var region = bus.AddMemory(new NativeMedia(size + (4L << 20)));
        var ns = region.ReconfigureNamespace(region.Namespaces[0].Name,
            new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = size, Align = align }, force: true);
        return (bus, region, new PmemDriver().AttachDeviceDax(region, ns));
    }

    [Test]
    public void ADevdaxNamespaceGetsACharacterDeviceWithItsAlignment()
    {
        var (bus, _, dax) = Create(Mib2);
        using (bus)
        {
            Assert.That(dax.Name, Does.StartWith("dax"));
            Assert.That(dax.Align, Is.EqualTo(Mib2));
            Assert.That(dax.Size, Is.EqualTo(16L << 20));
        }
    }

    [TestCase(4096L, 0L, 4096L, 0L, TestName = "APrivateMappingIsEinval")]
    public void APrivateMappingIsRefused(long align, long address, long length, long pgoff)
    {
        var (bus, _, dax) = Create(align);
        using (bus)
        {
            Assert.That(dax.Mmap(address, length, pgoff, DevDaxMapFlags.Write, out var mapping), Is.EqualTo(Errno.EINVAL));
            Assert.That(mapping, Is.Null);
        }
    }

    [TestCase(0x200000L + 4096, Mib2, 0L, TestName = "AStartNotAlignedToTwoMibIsEinval")]
    [TestCase(0x200000L, Mib2 + 4096, 0L, TestName = "ALengthNotAlignedToTwoMibIsEinval")]
    [TestCase(0x200000L, Mib2, 1L, TestName = "AnOffsetNotAlignedToTwoMibIsEinval")]
    [TestCase(0x200000L, 0L, 0L, TestName = "AnEmptyMappingIsEinval")]
    public void MisalignedMappingsAreRefused(long address, long length, long pgoff)
    {
        var (bus, _, dax) = Create(Mib2);
        using (bus)
            Assert.That(dax.Mmap(address, length, pgoff, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out _), Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void FaultsInstallEntriesOfExactlyTheAlignment()
    {
        var (bus, _, dax) = Create(Mib2);
        using (bus)
        {
            Assert.That(dax.Mmap(0x4000_0000, 8 * Mib2, 512, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var map), Is.EqualTo((Errno)0));
            Assert.That(map!.Fault(0x4000_0000 + 4096 * 3, PageEntrySize.Pte, write: true, out _), Is.EqualTo(DaxFaultStatus.SigBus),
                "a PTE fault on a 2 MiB device is SIGBUS");
            Assert.That(map.Fault(0x4000_0000, PageEntrySize.Pud, write: true, out _), Is.EqualTo(DaxFaultStatus.Fallback),
                "a PUD fault falls back to PMD");

            Assert.That(map.Fault(0x4000_0000 + Mib2 + 12345, PageEntrySize.Pmd, write: true, out var entry), Is.EqualTo(DaxFaultStatus.NoPage));
            Assert.That(entry.Address, Is.EqualTo(0x4000_0000 + Mib2));
            Assert.That(entry.Size, Is.EqualTo(PageEntrySize.Pmd));
            Assert.That(entry.PhysicalAddress, Is.EqualTo(dax.Namespace.PhysicalAddress + (512 * 4096) + Mib2));
            Assert.That(entry.PhysicalAddress % Mib2, Is.Zero, "a PMD entry maps a 2 MiB-aligned physical range");
            Assert.That(map.Entries, Has.Count.EqualTo(1));

            Assert.That(map.Fault(0x4000_0000 + Mib2, PageEntrySize.Pmd, write: false, out var again), Is.EqualTo(DaxFaultStatus.NoPage));
            Assert.That(again, Is.EqualTo(entry), "a second fault finds the entry already installed");
            Assert.That(map.Entries, Has.Count.EqualTo(1));
        }
    }

    [Test]
    public void FaultsPastTheDeviceOrOutsideTheMappingAreSigbus()
    {
        var (bus, _, dax) = Create(Mib2, size: 4 * Mib2);
        using (bus)
        {
            // The mapping runs past the device end: mmap allows it, the fault there does not.
            dax.Mmap(0, 8 * Mib2, 0, DevDaxMapFlags.Shared, out var map);
            Assert.That(map!.Fault(3 * Mib2, PageEntrySize.Pmd, write: false, out _), Is.EqualTo(DaxFaultStatus.NoPage));
            Assert.That(map.Fault(4 * Mib2, PageEntrySize.Pmd, write: false, out _), Is.EqualTo(DaxFaultStatus.SigBus));
            Assert.That(map.Fault(9 * Mib2, PageEntrySize.Pmd, write: false, out _), Is.EqualTo(DaxFaultStatus.SigBus));
            Assert.That(map.Fault(0, PageEntrySize.Pmd, write: true, out _), Is.EqualTo(DaxFaultStatus.SigBus), "write fault on a read-only mapping");
        }
    }

    [TestCase(1L << 51, TestName = "AFaultAtAPageOffsetOfTwoToTheFiftyOneIsSigbus")]
    [TestCase((1L << 52) - 1024, TestName = "AFaultAtTheLastPageOffsetMmapAcceptsIsSigbus")]
    public void AFaultAtAPageOffsetFarPastTheDeviceIsSigbus(long pgoff)
    {
        // mmap accepts any aligned offset; the fault finds no device page there (dax_pgoff_to_phys).
        var (bus, _, dax) = Create(Mib2);
        using (bus)
        {
            Assert.That(dax.Mmap(0, Mib2, pgoff, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var map), Is.EqualTo((Errno)0));
            Assert.That(map!.Fault(0, PageEntrySize.Pmd, write: true, out _), Is.EqualTo(DaxFaultStatus.SigBus));
            Assert.That(map.Entries, Is.Empty);
        }
    }

    [TestCase(1L << 52)]
    [TestCase((1L << 52) - 511)]
    [TestCase(long.MaxValue)]
    public void AnOffsetWhoseMappingEndsPastTwoToTheSixtyFourBytesIsEoverflow(long pgoff)
    {
        // file_mmap_ok: a character device's offsets run to 2^64 bytes; pgoff 2^52 (the byte
        // offset wrapping to the device's start) is refused at mmap, before any fault.
        var (bus, _, dax) = Create(Mib2);
        using (bus)
        {
            Assert.That(dax.Mmap(0, Mib2, pgoff, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var map), Is.EqualTo(Errno.EOVERFLOW));
            Assert.That(map, Is.Null);
        }
    }

    [Test]
    public void AMappingRunningPastTheEndOfTheAddressSpaceIsEnomem()
    {
        var (bus, _, dax) = Create(Mib2);
        using (bus)
        {
            Assert.That(dax.Mmap(1L << 62, 1L << 62, 0, DevDaxMapFlags.Shared, out var mapping), Is.EqualTo(Errno.ENOMEM));
            Assert.That(mapping, Is.Null);
        }
    }

    [Test]
    public void AWritableSharedMappingOfAReadOnlyDeviceIsEaccesBeforeTheAlignmentIsChecked()
    {
        // do_mmap refuses PROT_WRITE on a shared mapping of a file opened read-only before the
        // driver's mmap (check_vma) sees the range.
        string dir = Directory.CreateTempSubdirectory("daxstack-drv-").FullName;
        try
        {
            string image = Path.Combine(dir, "pmem.img");
            using (var f = File.Create(image))
                f.SetLength(20L << 20);
            using (var bus = new NvdimmBus(TestDevice.Catalog()))
            {
                var region = bus.OpenImage(image);
                region.ReconfigureNamespace(region.Namespaces[0].Name,
                    new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = 16L << 20, Align = Mib2 }, force: true);
            }
            using (var bus = new NvdimmBus(TestDevice.Catalog()))
            {
                var region = bus.OpenImage(image, readOnly: true);
                var dax = new PmemDriver().AttachDeviceDax(region, region.Namespaces[0]);
                Assert.That(dax.ReadOnly, Is.True);
                Assert.That(dax.Mmap(4096, Mib2, 0, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out _), Is.EqualTo(Errno.EACCES));
                Assert.That(dax.Mmap(4096, Mib2, 0, DevDaxMapFlags.Write, out _), Is.EqualTo(Errno.EINVAL), "a private mapping needs no write access");
                Assert.That(dax.Mmap(4096, Mib2, 0, DevDaxMapFlags.Shared, out _), Is.EqualTo(Errno.EINVAL));
                Assert.That(dax.Mmap(0, Mib2, 0, DevDaxMapFlags.Shared, out var map), Is.EqualTo((Errno)0));
                Assert.That(map, Is.Not.Null);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void APageAlignedDeviceTakesPteFaultsAndFallsBackFromPmd()
    {
        var (bus, _, dax) = Create(4096);
        using (bus)
        {
            Assert.That(dax.Mmap(0x10000, 3 * 4096, 2, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var map), Is.EqualTo((Errno)0));
            Assert.That(map!.Fault(0x10000, PageEntrySize.Pmd, write: true, out _), Is.EqualTo(DaxFaultStatus.Fallback));
            Assert.That(map.Fault(0x11000, PageEntrySize.Pte, write: true, out var entry), Is.EqualTo(DaxFaultStatus.NoPage));
            Assert.That(entry.Pfn, Is.EqualTo(dax.Namespace.FirstPfn + 3));
        }
    }

    [Test]
    public void StoresThroughAFaultedEntryReachTheNamespaceAndFollowThePersistenceModel()
    {
        var (bus, region, dax) = Create(Mib2);
        using (bus)
        {
            dax.Mmap(0, 2 * Mib2, 0, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var map);
            Assert.That(map!.TryGetWindow(Mib2 + 100, out _), Is.False, "nothing is mapped before the fault");
            map.Fault(Mib2 + 100, PageEntrySize.Pmd, write: true, out _);
            Assert.That(map.TryGetWindow(Mib2 + 100, out var window), Is.True);
            Assert.That(window.Length, Is.EqualTo(Mib2));

            var kept = TestDevice.Pattern(64, 30);
            window.Store(100, kept);
            window.WriteBack(100, 64);
            window.Sfence();
            window.Store(4096, TestDevice.Pattern(64, 31));
            bus.Space.Crash(CrashPolicy.Strict);

            var persisted = new byte[64];
            region.Region.ReadPersisted(dax.Namespace.Offset + Mib2 + 100, persisted);
            Assert.That(persisted, Is.EqualTo(kept));
            region.Region.ReadPersisted(dax.Namespace.Offset + Mib2 + 4096, persisted);
            Assert.That(persisted, Is.All.Zero);

            map.Unmap();
            Assert.That(map.Entries, Is.Empty);
        }
    }

    [Test]
    public void AMappingWithoutWriteAccessRefusesStoresThroughItsWindow()
    {
        // Without PROT_WRITE the entries are read-only: a store through them is a protection
        // fault on the hardware, and must not reach the namespace.
        var (bus, region, dax) = Create(Mib2);
        using (bus)
        {
            var data = TestDevice.Pattern(64, 32);
            Assert.That(dax.Mmap(0, Mib2, 0, DevDaxMapFlags.Shared, out var map), Is.EqualTo((Errno)0));
            Assert.That(map!.Fault(100, PageEntrySize.Pmd, write: false, out _), Is.EqualTo(DaxFaultStatus.NoPage));
            Assert.That(map.TryGetWindow(100, out var window), Is.True);
            Assert.That(window.IsWritable, Is.False);
            Assert.Throws<InvalidOperationException>(() => window.Store(0, data));
            Assert.Throws<InvalidOperationException>(() => window.StoreUInt64(0, 1));
            Assert.Throws<InvalidOperationException>(() => window.NtStore(0, data));
            Assert.Throws<InvalidOperationException>(() => window.Persist(0, data));
            Assert.Throws<InvalidOperationException>(() => window.Slice(64, 64).Store(0, data));
            var back = new byte[64];
            window.Load(0, back);
            Assert.That(back, Is.All.Zero, "loads work and nothing was stored");
            window.WriteBack(0, 64);
            window.Sfence();

            Assert.That(dax.Mmap(Mib2, Mib2, 0, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var writable), Is.EqualTo((Errno)0));
            writable!.Fault(Mib2, PageEntrySize.Pmd, write: true, out _);
            Assert.That(writable.TryGetWindow(Mib2, out var rw), Is.True);
            Assert.That(rw.IsWritable, Is.True);
            rw.Store(0, data);
            window.Load(0, back);
            Assert.That(back, Is.EqualTo(data), "a writable mapping of the same pages stores");
        }
    }

    [Test]
    public void ADeviceWhoseNamespaceWasDestroyedRefusesMappingsAndFaultsAndItsEntriesAreGone()
    {
        // Destroying the namespace kills the dax device: check_vma is ENXIO, faults are SIGBUS, and
        // the entries already installed are zapped, so no store reaches the range afterwards.
        var (bus, region, dax) = Create(Mib2);
        using (bus)
        {
            Assert.That(dax.Mmap(0, 2 * Mib2, 0, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var map), Is.EqualTo((Errno)0));
            Assert.That(map!.Fault(0, PageEntrySize.Pmd, write: true, out _), Is.EqualTo(DaxFaultStatus.NoPage));
            region.DestroyNamespace(dax.Namespace.Name, force: true);

            Assert.That(dax.Mmap(0, Mib2, 0, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var late), Is.EqualTo(Errno.ENXIO));
            Assert.That(late, Is.Null);
            Assert.That(map.Fault(Mib2, PageEntrySize.Pmd, write: true, out _), Is.EqualTo(DaxFaultStatus.SigBus));
            Assert.That(map.TryGetWindow(0, out _), Is.False);
        }
    }

    [Test]
    public void TheBlockDriverRefusesDevdaxAndSectorNamespacesAndDeviceDaxRefusesTheRest()
    {
        var (bus, region, dax) = Create(Mib2);
        using (bus)
        {
            var e = Assert.Throws<PmemProbeException>(() => new PmemDriver().AttachPmem(region, dax.Namespace));
            Assert.That(e!.Errno, Is.EqualTo(Errno.ENOTBLK));
            var sector = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Sector, Size = 1L << 20 });
            e = Assert.Throws<PmemProbeException>(() => new PmemDriver().AttachPmem(region, sector));
            Assert.That(e!.Errno, Is.EqualTo(Errno.EOPNOTSUPP));
            e = Assert.Throws<PmemProbeException>(() => new PmemDriver().AttachDeviceDax(region, sector));
            Assert.That(e!.Errno, Is.EqualTo(Errno.ENXIO));
        }
    }
}
