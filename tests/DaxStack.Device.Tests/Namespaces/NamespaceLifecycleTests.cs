using DaxStack.Device.Errors;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Namespaces;

public class NamespaceLifecycleTests
{
    private const long MiB = 1 << 20;

    [Test]
    public void CreatedNamespacesSurviveReopeningInANewBus()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Guid fsdaxUuid;
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.CreateImage(image, 32 * MiB);
            fsdaxUuid = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 8 * MiB, Name = "fs" }).Uuid!.Value;
            region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = 4 * MiB, Align = NamespaceAlignment.Page, Map = MemmapLocation.Mem });
            region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Sector, Size = 2 * MiB });
        }

        using var again = ImageDirectory.NewBus();
        var ns = again.OpenImage(image).Namespaces;
        Assert.That(ns.Select(n => n.Name), Is.EqualTo(new[] { "namespace0.0", "namespace0.1", "namespace0.2" }));
        Assert.Multiple(() =>
        {
            Assert.That(ns[0].Mode, Is.EqualTo(NamespaceMode.Fsdax));
            Assert.That(ns[0].Uuid, Is.EqualTo(fsdaxUuid));
            Assert.That(ns[0].FriendlyName, Is.EqualTo("fs"));
            Assert.That(ns[0].Size, Is.EqualTo(8 * MiB));
            Assert.That(ns[0].Align, Is.EqualTo(NamespaceAlignment.Pmd));
            Assert.That(ns[0].Map, Is.EqualTo(MemmapLocation.Dev));
            Assert.That(ns[1].Mode, Is.EqualTo(NamespaceMode.Devdax));
            Assert.That(ns[1].Offset, Is.EqualTo(8 * MiB));
            Assert.That(ns[1].Align, Is.EqualTo(NamespaceAlignment.Page));
            Assert.That(ns[1].Map, Is.EqualTo(MemmapLocation.Mem));
            Assert.That(ns[1].CharDevice, Is.EqualTo("dax0.1"));
            Assert.That(ns[1].BlockDevice, Is.Null);
            Assert.That(ns[2].Mode, Is.EqualTo(NamespaceMode.Sector));
            Assert.That(ns[2].SectorSize, Is.EqualTo(4096));
            Assert.That(ns[2].BlockDevice, Is.EqualTo("pmem0.2s"));
        });
    }

    [Test]
    public void ManyNamespacesCreatedOneByOneAreEachWrittenWithTheNextGenerationAndAllSurviveReopening()
    {
        const int count = 150;
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        var made = new List<(string Name, Guid Uuid, long Offset)>();
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.CreateImage(image, (count + 2) * 4096L);
            for (int i = 0; i < count; i++)
            {
                var ns = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4096, Name = $"n{i}" });
                made.Add((ns.Name, ns.Uuid!.Value, ns.Offset));
                Assert.That(LabelStorageArea.Load(image + ".labels")!.Index.Sequence, Is.EqualTo(i + 2), "each change writes the file once");
            }
            // One destroyed in the middle frees its index and range for the next one.
            region.DestroyNamespace("n75", force: true);
            var again = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4096, Name = "n75b" });
            Assert.That((again.Index, again.Offset), Is.EqualTo((75, 75 * 4096L)));
            made[75] = (again.Name, again.Uuid!.Value, again.Offset);
        }

        using var reopened = ImageDirectory.NewBus();
        var all = reopened.OpenImage(image).Namespaces;
        Assert.That(all.Select(n => (n.Name, n.Uuid!.Value, n.Offset)), Is.EqualTo(made));
    }

    [Test]
    public void DestroyFreesTheRangeAndTheNextNamespaceReusesTheLowestIndexAndOffset()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.CreateImage(image, 16 * MiB);
            region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4 * MiB });
            region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4 * MiB });
            region.DestroyNamespace("namespace0.0", force: true);
        }

        using var again = ImageDirectory.NewBus();
        var reopened = again.OpenImage(image);
        Assert.That(reopened.Namespaces.Select(n => n.Name), Is.EqualTo(new[] { "namespace0.1" }));
        var created = reopened.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 2 * MiB });
        Assert.Multiple(() =>
        {
            Assert.That(created.Name, Is.EqualTo("namespace0.0"));
            Assert.That(created.Offset, Is.EqualTo(0));
            Assert.That(reopened.AvailableSize, Is.EqualTo(10 * MiB));
            Assert.That(reopened.MaxAvailableExtent, Is.EqualTo(8 * MiB));
        });
    }

    [Test]
    public void WithoutASizeANamespaceTakesTheLargestAlignedFreeExtent()
    {
        using var dir = new ImageDirectory();
        using var bus = ImageDirectory.NewBus();
        var region = bus.CreateImage(dir.PathOf("pmem.img"), 16 * MiB);
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 2 * MiB });
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4 * MiB });
        region.DestroyNamespace("namespace0.0", force: true);   // free: [0, 2M) and [6M, 16M)

        var ns = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax });

        Assert.Multiple(() =>
        {
            Assert.That(ns.Offset, Is.EqualTo(6 * MiB));
            Assert.That(ns.Size, Is.EqualTo(10 * MiB));
        });
    }

    [Test]
    public void ANamespacePhysicalAddressIsTheRegionBasePlusItsOffsetAndItsPfnThatShiftedBy12()
    {
        using var space = new PhysicalAddressSpace();
        using var bus = new NvdimmBus(space, ImageDirectory.Profiles);
        var first = bus.AddMemory(new NativeMedia(8 * MiB));
        var second = bus.AddMemory(new NativeMedia(16 * MiB));
        second.DestroyNamespace("namespace1.0", force: true);
        second.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4 * MiB });
        var ns = second.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 4 * MiB });

        Assert.Multiple(() =>
        {
            Assert.That(first.Name, Is.EqualTo("region0"));
            Assert.That(second.Name, Is.EqualTo("region1"));
            Assert.That(ns.Name, Is.EqualTo("namespace1.1"));
            Assert.That(second.Region.BaseAddress, Is.EqualTo(PhysicalAddressSpace.FirstRegionBase + PhysicalAddressSpace.RegionAlignment));
            Assert.That(ns.PhysicalAddress, Is.EqualTo(second.Region.BaseAddress + 4 * MiB));
            Assert.That(ns.FirstPfn, Is.EqualTo((second.Region.BaseAddress + 4 * MiB) >> 12));
            Assert.That(ns.PageCount, Is.EqualTo(1024));
            Assert.That(ns.ToPhysicalAddress(4095), Is.EqualTo(ns.PhysicalAddress + 4095));
            Assert.That(space.Resolve(ns.PhysicalAddress, ns.Size), Is.SameAs(second.Region));
        });
    }

    [Test]
    public void StoresThroughANamespaceLandAtItsOffsetInTheImage()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.CreateImage(image, 8 * MiB);
            region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 2 * MiB });
            var ns = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 2 * MiB });
            bus.Space.CurrentCpu.Persist(ns.ToPhysicalAddress(100), "hello"u8);
        }

        using var fs = File.OpenRead(image);
        fs.Seek(2 * MiB + 100, SeekOrigin.Begin);
        var bytes = new byte[5];
        fs.ReadExactly(bytes);
        Assert.That(bytes, Is.EqualTo("hello"u8.ToArray()));
    }

    [TestCase(NamespaceMode.Devdax, NamespaceAlignment.Page)]
    [TestCase(NamespaceMode.Devdax, NamespaceAlignment.Pmd)]
    [TestCase(NamespaceMode.Devdax, NamespaceAlignment.Pud)]
    [TestCase(NamespaceMode.Fsdax, NamespaceAlignment.Pud)]
    public void ADaxNamespaceIsPlacedSoItsPhysicalAddressAndPfnAreMultiplesOfItsAlignment(NamespaceMode mode, long align)
    {
        using var bus = ImageDirectory.NewBus();
        var region = bus.AddMemory(new NativeMedia(3L << 30));
        region.DestroyNamespace("namespace0.0", force: true);
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 12288 });   // leaves the next free byte unaligned

        var ns = region.CreateNamespace(new NamespaceSpec { Mode = mode, Size = align, Align = align });

        Assert.Multiple(() =>
        {
            Assert.That(ns.PhysicalAddress % align, Is.EqualTo(0));
            Assert.That(ns.FirstPfn % (align >> 12), Is.EqualTo(0));
            Assert.That(ns.Offset, Is.EqualTo(Math.Max(align, 12288)));
            Assert.That(ns.Align, Is.EqualTo(align));
        });
    }

    [TestCase(8192L)]
    [TestCase(1L << 20)]
    [TestCase(4L << 20)]
    [TestCase(0L)]
    public void ADevdaxAlignmentOtherThan4KiB2MiBOr1GiBIsRejected(long align)
    {
        using var bus = ImageDirectory.NewBus();
        var region = bus.AddMemory(new NativeMedia(16 * MiB));
        region.DestroyNamespace("namespace0.0", force: true);

        var e = Assert.Throws<NamespaceException>(() => region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = 8 * MiB, Align = align }));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(e.Message, Does.Contain("alignment").And.Contain("devdax"));
            Assert.That(region.Namespaces, Is.Empty);
        });
    }

    [Test]
    public void ADevdaxSizeThatIsNotAMultipleOfItsAlignmentIsRejected()
    {
        using var bus = ImageDirectory.NewBus();
        var region = bus.AddMemory(new NativeMedia(16 * MiB));
        region.DestroyNamespace("namespace0.0", force: true);

        var e = Assert.Throws<NamespaceException>(() => region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = 3 * MiB }));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(e.Message, Does.Contain("not a multiple"));
        });
    }

    [Test]
    public void AnAlignmentOnARawNamespaceIsRejected()
    {
        var e = Assert.Throws<NamespaceException>(() => new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4 * MiB, Align = NamespaceAlignment.Pmd }.Validate());
        Assert.That(e!.Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void ReconfiguringKeepsIndexUuidAndOffsetAndChangesTheMode()
    {
        using var bus = ImageDirectory.NewBus();
        var region = bus.AddMemory(new NativeMedia(16 * MiB));
        region.DestroyNamespace("namespace0.0", force: true);
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 2 * MiB });
        var old = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 4 * MiB, Name = "data" });

        var ns = region.ReconfigureNamespace("data", new NamespaceSpec { Mode = NamespaceMode.Devdax }, force: true);

        Assert.Multiple(() =>
        {
            Assert.That(ns.Name, Is.EqualTo(old.Name));
            Assert.That(ns.Uuid, Is.EqualTo(old.Uuid));
            Assert.That(ns.FriendlyName, Is.EqualTo("data"));
            Assert.That(ns.Offset, Is.EqualTo(old.Offset));
            Assert.That(ns.Size, Is.EqualTo(old.Size));
            Assert.That(ns.Mode, Is.EqualTo(NamespaceMode.Devdax));
            Assert.That(region.Namespaces, Has.Count.EqualTo(2));
        });
    }

    [Test]
    public void ANamespaceCanBeFoundByItsFriendlyName()
    {
        using var bus = ImageDirectory.NewBus();
        var region = bus.AddMemory(new NativeMedia(8 * MiB));
        region.DestroyNamespace("namespace0.0", force: true);
        var created = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4 * MiB, Name = "logs" });

        Assert.That(region.GetNamespace("logs"), Is.SameAs(created));
    }

    [Test]
    public void ACostProfileGivenAtCreationIsRecordedAndUsedOnReopen()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        using (var bus = ImageDirectory.NewBus())
            bus.CreateImage(image, 4 * MiB, "optane-eadr");

        using var again = ImageDirectory.NewBus();
        var region = again.OpenImage(image);
        Assert.That(region.Region.Cost.Profile.Name, Is.EqualTo("optane-eadr"));
    }

    [Test]
    public void AHeldNamespaceCannotBeDestroyedOrReconfiguredUntilReleased()
    {
        using var bus = ImageDirectory.NewBus();
        var region = bus.AddMemory(new NativeMedia(32 << 20));
        region.DestroyNamespace("namespace0.0", force: true);
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 16 << 20 });
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 16 << 20 });
        var held = region.Hold(region.GetNamespace("namespace0.1"));
        var destroy = Assert.Throws<NamespaceException>(() => region.DestroyNamespace("namespace0.1", force: true));
        var reconfigure = Assert.Throws<NamespaceException>(() => region.ReconfigureNamespace("namespace0.1", new NamespaceSpec { Mode = NamespaceMode.Fsdax }, force: true));
        Assert.Multiple(() =>
        {
            Assert.That(destroy!.Errno, Is.EqualTo(Errno.EBUSY));
            Assert.That(reconfigure!.Errno, Is.EqualTo(Errno.EBUSY));
            Assert.That(region.Namespaces, Has.Count.EqualTo(2));
        });
        held.Dispose();
        region.DestroyNamespace("namespace0.1", force: true);
        Assert.That(region.Namespaces, Has.Count.EqualTo(1));
    }
}
