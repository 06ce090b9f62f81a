using DaxStack.Device.Crash;
using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;

namespace DaxStack.Driver.Tests.Dax;

/// <summary>direct_access, zero_page_range and recovery_write of the pmem driver.</summary>
public class PmemDaxOperationsTests
{
    private const int Page = 4096;

    [Test]
    public void AReadOnlyDeviceHandsOutWindowsThatLoadButRefuseStores()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-drv-").FullName;
        try
        {
            string image = Path.Combine(dir, "pmem.img");
            var pattern = TestDevice.Pattern(1 << 20, 5);
            File.WriteAllBytes(image, pattern);
            using (var t = TestDevice.Image(image, readOnly: true))
            {
                Assert.That(t.Device.DirectAccess(1, 2, DaxAccessMode.Access, out var extent), Is.EqualTo((Errno)0));
                Assert.That(extent.Window.IsWritable, Is.False);
                Assert.That(extent.Window.Slice(0, Page).IsWritable, Is.False);
                var back = new byte[64];
                extent.Window.Load(0, back);
                Assert.That(back, Is.EqualTo(pattern.AsSpan(Page, 64).ToArray()));
                // A store would land in the read-only device's private copy and vanish: refused,
                // as the kernel maps a read-only device's pages without write permission.
                Assert.Throws<InvalidOperationException>(() => extent.Window.Store(0, new byte[] { 1, 2, 3 }));
                Assert.Throws<InvalidOperationException>(() => extent.Window.Persist(0, new byte[64]));
                extent.Window.Load(0, back);
                Assert.That(back, Is.EqualTo(pattern.AsSpan(Page, 64).ToArray()));
            }
            using (var t = TestDevice.InMemory(size: 1 << 20))
            {
                Assert.That(t.Device.DirectAccess(1, 2, DaxAccessMode.Access, out var extent), Is.EqualTo((Errno)0));
                Assert.That(extent.Window.IsWritable, Is.True);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void DirectAccessHandsOutThePagesToTheEndWithTheirPfns()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        IDaxOperations dax = t.Device;
        Assert.That(dax.PageCount, Is.EqualTo(256));

        Assert.That(dax.DirectAccess(10, 4, DaxAccessMode.Access, out var extent), Is.EqualTo((Errno)0));
        Assert.That(extent.Pages, Is.EqualTo(4));
        Assert.That(extent.Pfn, Is.EqualTo((t.Device.Namespace.PhysicalAddress >> 12) + 10));
        Assert.That(extent.Window.PhysicalAddress, Is.EqualTo(t.Device.Namespace.PhysicalAddress + 10 * Page));
        Assert.That(extent.Window.Length, Is.EqualTo(4 * Page));

        Assert.That(dax.DirectAccess(250, 100, DaxAccessMode.Access, out extent), Is.EqualTo((Errno)0));
        Assert.That(extent.Pages, Is.EqualTo(6), "never past the end of the device");
    }

    [TestCase(256, 1, Errno.ERANGE, TestName = "APageOffsetAtTheEndIsErange")]
    [TestCase(1000, 1, Errno.ERANGE, TestName = "APageOffsetPastTheEndIsErange")]
    [TestCase(-1, 1, Errno.ERANGE, TestName = "ANegativePageOffsetIsErange")]
    [TestCase(0, -1, Errno.EINVAL, TestName = "ANegativePageCountIsEinval")]
    public void DirectAccessOutsideTheDeviceFails(long pgoff, long pages, Errno expected)
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        Assert.That(t.Device.DirectAccess(pgoff, pages, DaxAccessMode.Access, out var extent), Is.EqualTo(expected));
        Assert.That(extent.Window.IsEmpty, Is.True);
    }

    [Test]
    public void StoresThroughTheWindowAreSeenByBlockReadsAndNeedAWriteBackAndFenceToSurviveACrash()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        t.Device.DirectAccess(2, 2, DaxAccessMode.Access, out var extent);
        var kept = TestDevice.Pattern(Page, 20);
        var lost = TestDevice.Pattern(Page, 21);
        extent.Window.Store(0, kept);
        extent.Window.Store(Page, lost);
        extent.Window.WriteBack(0, Page);
        extent.Window.Sfence();

        var back = new byte[Page];
        t.Device.Read(3 * Page, back);
        Assert.That(back, Is.EqualTo(lost), "the block path sees stores still in the cache");

        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Persisted(2 * Page, Page), Is.EqualTo(kept));
        Assert.That(t.Persisted(3 * Page, Page), Is.All.Zero);
    }

    [Test]
    public void NonTemporalStoresThroughTheWindowAreDurableAfterTheCallersFence()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        t.Device.DirectAccess(0, 1, DaxAccessMode.Access, out var extent);
        var data = TestDevice.Pattern(Page, 22);
        extent.Window.NtStore(0, data);
        extent.Window.Sfence();
        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Persisted(0, Page), Is.EqualTo(data));
    }

    [Test]
    public void TheWindowRefusesAccessOutsideItself()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        t.Device.DirectAccess(0, 1, DaxAccessMode.Access, out var extent);
        Assert.Throws<ArgumentOutOfRangeException>(() => extent.Window.Store(Page - 4, new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => extent.Window.Load(-1, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => extent.Window.Slice(1, Page));
        Assert.Throws<InvalidOperationException>(() => default(DaxWindow).Load(0, new byte[1]));
    }

    [Test]
    public void DirectAccessOverPoisonIsEioButARecoveryWriteGetsThePagesUpToTheBadOne()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        t.Region.InjectError(t.Device.Namespace, block: 5 * 8 + 1, count: 1);     // in page 5

        Assert.That(t.Device.DirectAccess(2, 8, DaxAccessMode.Access, out _), Is.EqualTo(Errno.EIO));
        Assert.That(t.Device.DirectAccess(2, 8, DaxAccessMode.RecoveryWrite, out var extent), Is.EqualTo((Errno)0));
        Assert.That(extent.Pages, Is.EqualTo(4), "pages 2-5: up to and including the page holding the bad sector");
        Assert.That(t.Device.DirectAccess(5, 8, DaxAccessMode.RecoveryWrite, out extent), Is.EqualTo((Errno)0));
        Assert.That(extent.Pages, Is.EqualTo(1), "the bad page itself, one at a time");

        Assert.That(t.Device.DirectAccess(6, 100, DaxAccessMode.Access, out extent), Is.EqualTo((Errno)0));
        Assert.That(extent.Pages, Is.EqualTo(100), "with bad blocks elsewhere only the requested range is handed out");
        Assert.That(t.Device.DirectAccess(0, 5, DaxAccessMode.Access, out extent), Is.EqualTo((Errno)0));
        Assert.That(extent.Pages, Is.EqualTo(5));
    }

    [Test]
    public void AskingForNoPagesIsEmptySuccessButErangeOnceTheDeviceHasBadBlocks()
    {
        // The kernel's pmem direct_access limits a device with bad blocks to the requested range,
        // and dax_direct_access turns the 0 pages it then has into ERANGE.
        using var t = TestDevice.InMemory(size: 1 << 20);
        Assert.That(t.Device.DirectAccess(3, 0, DaxAccessMode.Access, out var extent), Is.EqualTo((Errno)0));
        Assert.That(extent.Pages, Is.Zero);
        t.Region.InjectError(t.Device.Namespace, block: 100 * 8, count: 1);
        Assert.That(t.Device.DirectAccess(3, 0, DaxAccessMode.Access, out extent), Is.EqualTo(Errno.ERANGE));
        Assert.That(extent.Window.IsEmpty, Is.True);
    }

    [Test]
    public void LoadMcCopiesUpToTheFirstPoisonedLine()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        var data = TestDevice.Pattern(Page, 23);
        t.Device.Write(0, data, BioFlags.Fua);
        t.Device.DirectAccess(0, 1, DaxAccessMode.Access, out var extent);
        t.Region.InjectError(t.Device.Namespace, block: 3, count: 1);

        var back = new byte[Page];
        Assert.That(extent.Window.LoadMc(0, back), Is.EqualTo(3 * 512));
        Assert.That(back.AsSpan(0, 1536).ToArray(), Is.EqualTo(data.AsSpan(0, 1536).ToArray()));
        Assert.That(extent.Window.LoadMc(2048, back.AsSpan(0, 1024)), Is.EqualTo(1024), "a range past the poison copies fully");
    }

    [Test]
    public void ZeroPageRangeZeroesDurablyAndClearsPoison()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        t.Device.Write(0, TestDevice.Pattern(16 * Page, 24), BioFlags.Fua);
        t.Region.InjectError(t.Device.Namespace, block: 4 * 8, count: 2);

        Assert.That(t.Device.ZeroPageRange(3, 2), Is.EqualTo((Errno)0));
        Assert.That(t.Region.BadBlocks(t.Device.Namespace), Is.Empty);
        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Persisted(3 * Page, 2 * Page), Is.All.Zero);
        Assert.That(t.Persisted(5 * Page, Page), Is.EqualTo(TestDevice.Pattern(16 * Page, 24).AsSpan(5 * Page, Page).ToArray()));

        Assert.That(t.Device.ZeroPageRange(255, 2), Is.EqualTo(Errno.EIO));
        Assert.That(t.Device.ZeroPageRange(-1, 1), Is.EqualTo(Errno.EIO));
    }

    [Test]
    public void RecoveryWriteClearsPoisonOnlyForWholePages()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        var ns = t.Device.Namespace;
        t.Region.InjectError(ns, block: 8, count: 1);       // page 1
        var page = TestDevice.Pattern(Page, 25);

        Assert.That(t.Device.RecoveryWrite(Page, page.AsSpan(0, 1024)), Is.Zero, "a partial page over poison is refused");
        Assert.That(t.Region.BadBlocks(ns), Has.Count.EqualTo(1));

        Assert.That(t.Device.RecoveryWrite(Page, page), Is.EqualTo(Page));
        Assert.That(t.Region.BadBlocks(ns), Is.Empty);
        t.Bus.Space.CurrentCpu.Sfence();
        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Persisted(Page, Page), Is.EqualTo(page));

        Assert.That(t.Device.RecoveryWrite(100, page.AsSpan(0, 10)), Is.EqualTo(10), "a clean range is written at any alignment");
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Device.RecoveryWrite((1 << 20) - 10, page.AsSpan(0, 20)));
    }

    [Test]
    public void ARecoveryWriteOfPartOfAPoisonedPageIsRefusedEvenWhereItsOwnSectorsAreClean()
    {
        // pmem_recovery_write checks the whole pages the write touches: a page with poison
        // anywhere in it stays refused to DirectAccess until it is rewritten whole, so a partial
        // write into it cannot succeed (its bytes could not be read back through DAX).
        using var t = TestDevice.InMemory(size: 1 << 20);
        var ns = t.Device.Namespace;
        t.Region.InjectError(ns, block: 8, count: 1);       // the first sector of page 1
        var data = TestDevice.Pattern(1024, 26);

        Assert.That(t.Device.RecoveryWrite(Page + 1024, data), Is.Zero);
        Assert.That(t.Device.RecoveryWrite(Page - 512, data), Is.Zero, "a write reaching into the poisoned page from the one before");
        Assert.That(t.Region.BadBlocks(ns), Has.Count.EqualTo(1));
        Assert.That(t.Device.DirectAccess(1, 1, DaxAccessMode.Access, out _), Is.EqualTo(Errno.EIO));
        Assert.That(t.Device.RecoveryWrite(2 * Page + 1024, data), Is.EqualTo(1024), "a partial write into a clean page is fine");
    }

    [Test]
    public void DaxOperationsOfADeviceWhoseNamespaceWasReconfiguredFailWithEnxio()
    {
        // Reconfiguring the namespace disables it first: dax_direct_access and dax_zero_page_range
        // of the dead dax device are ENXIO, and nothing reaches the namespace now over the range.
        using var t = TestDevice.InMemory(size: 1 << 20);
        var data = TestDevice.Pattern(Page, 43);
        t.Device.Write(0, data, BioFlags.Fua);
        t.Region.ReconfigureNamespace(t.Device.Namespace.Name,
            new DaxStack.Device.Namespaces.NamespaceSpec { Mode = DaxStack.Device.Namespaces.NamespaceMode.Fsdax, Size = 1 << 20, Align = 4096 }, force: true);

        Assert.That(t.Device.DirectAccess(0, 1, DaxAccessMode.Access, out var extent), Is.EqualTo(Errno.ENXIO));
        Assert.That(extent.Window.IsEmpty, Is.True);
        Assert.That(t.Device.DirectAccess(0, 1, DaxAccessMode.RecoveryWrite, out _), Is.EqualTo(Errno.ENXIO));
        Assert.That(t.Device.ZeroPageRange(0, 1), Is.EqualTo(Errno.ENXIO));
        Assert.That(t.Device.RecoveryWrite(0, TestDevice.Pattern(Page, 44)), Is.Zero);
        Assert.That(t.Persisted(0, Page), Is.EqualTo(data), "neither zeroed nor overwritten");
    }
}
