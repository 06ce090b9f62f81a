using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Namespaces;

public class PlainImageTests
{
    [Test]
    public void APlainImageWhoseNameLeavesNoRoomForSideFilesStillOpensAndRefusesLabelsClearly()
    {
        // A 250-byte file name is valid (NAME_MAX is 255), but IMAGE.labels and IMAGE.badblocks
        // would not be: there can be no such files, so the image is a plain label-less one.
        using var dir = new ImageDirectory();
        string image = dir.PlainImage(new string('b', 246) + ".img", 8 << 20);
        var before = dir.Snapshot();
        using var bus = ImageDirectory.NewBus();

        var region = bus.OpenImage(image);

        Assert.That(region.IsLabelless, Is.True);
        var e = Assert.Throws<NamespaceException>(() => region.DestroyNamespace("namespace0.0", force: true));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.ENAMETOOLONG), e.Message);
            Assert.That(region.IsLabelless, Is.True);
            Assert.That(dir.Snapshot(), Is.EqualTo(before), "nothing was written");
        });
    }

    [Test]
    public void APlainImageIsOneLabelLessRawNamespaceCoveringTheWholeFile()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", 8 << 20);
        using var bus = ImageDirectory.NewBus();

        var region = bus.OpenImage(image);

        Assert.That(region.Namespaces, Has.Count.EqualTo(1));
        var ns = region.Namespaces[0];
        Assert.Multiple(() =>
        {
            Assert.That(region.IsLabelless, Is.True);
            Assert.That(ns.Name, Is.EqualTo("namespace0.0"));
            Assert.That(ns.Mode, Is.EqualTo(NamespaceMode.Raw));
            Assert.That(ns.IsLabelless, Is.True);
            Assert.That(ns.Uuid, Is.Null);
            Assert.That(ns.Offset, Is.EqualTo(0));
            Assert.That(ns.Size, Is.EqualTo(8 << 20));
            Assert.That(ns.SectorSize, Is.EqualTo(512));
            Assert.That(ns.BlockDevice, Is.EqualTo("pmem0"));
            Assert.That(region.AvailableSize, Is.EqualTo(0));
        });
    }

    [Test]
    public void AnImagePathThatIsASymbolicLinkOpensTheImageItPointsTo()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", 8 << 20);
        string link = dir.PathOf("link.img");
        File.CreateSymbolicLink(link, image);
        using var bus = ImageDirectory.NewBus();

        var region = bus.OpenImage(link, readOnly: true);

        Assert.That(region.Namespaces.Single().Size, Is.EqualTo(8 << 20));
    }

    [Test]
    public void OpeningAPlainImageWritesNothingBesideOrIntoIt()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", 4 << 20);
        var before = dir.Snapshot();

        using (var bus = ImageDirectory.NewBus())
        {
            var ns = bus.OpenImage(image).Namespaces[0];
            var bytes = new byte[16];
            bus.Space.CurrentCpu.Load(ns.PhysicalAddress, bytes);
            Assert.That(bytes[0], Is.EqualTo(1), "the raw namespace starts at the first byte of the image");
        }

        Assert.That(dir.Snapshot(), Is.EqualTo(before));
    }

    [Test]
    public void TheRawNamespaceOfAPlainImageMapsImageOffsetsToPhysicalAddressesOneToOne()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", 4 << 20);
        using var bus = ImageDirectory.NewBus();
        var ns = bus.OpenImage(image).Namespaces[0];

        var last = new byte[4096];
        bus.Space.CurrentCpu.Load(ns.ToPhysicalAddress((4 << 20) - 4096), last);

        Assert.Multiple(() =>
        {
            Assert.That(ns.PhysicalAddress, Is.EqualTo(PhysicalAddressSpace.FirstRegionBase));
            Assert.That(ns.FirstPfn, Is.EqualTo(PhysicalAddressSpace.FirstRegionBase >> 12));
            Assert.That(last[1], Is.EqualTo(8), "the pattern written at the image's last page");
        });
    }

    [Test]
    public void DestroyingTheLabelLessNamespaceLeavesAnEmptyLabelFileAndTheImageBytesUntouched()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", 4 << 20);
        var imageBefore = dir.Snapshot()["plain.img"];

        using (var bus = ImageDirectory.NewBus())
            bus.OpenImage(image).DestroyNamespace("namespace0.0", force: true);

        using var again = ImageDirectory.NewBus();
        var region = again.OpenImage(image);
        Assert.Multiple(() =>
        {
            Assert.That(region.IsLabelless, Is.False);
            Assert.That(region.Namespaces, Is.Empty);
            Assert.That(region.AvailableSize, Is.EqualTo(4 << 20));
            Assert.That(File.Exists(image + ".labels"), Is.True);
            Assert.That(dir.Snapshot()["plain.img"], Is.EqualTo(imageBefore));
        });
    }

    [Test]
    public void ReconfiguringTheLabelLessNamespaceGivesTheWholeImageTheNewMode()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", 6 << 20);

        using (var bus = ImageDirectory.NewBus())
            bus.OpenImage(image).ReconfigureNamespace("namespace0.0", new NamespaceSpec { Mode = NamespaceMode.Fsdax }, force: true);

        using var again = ImageDirectory.NewBus();
        var ns = again.OpenImage(image).Namespaces.Single();
        Assert.Multiple(() =>
        {
            Assert.That(ns.Mode, Is.EqualTo(NamespaceMode.Fsdax));
            Assert.That(ns.Name, Is.EqualTo("namespace0.0"));
            Assert.That(ns.Offset, Is.EqualTo(0));
            Assert.That(ns.Size, Is.EqualTo(6 << 20), "6 MiB is already a multiple of the 2 MiB alignment");
            Assert.That(ns.Uuid, Is.Not.Null);
        });
    }

    [Test]
    public void ANewNamespaceDoesNotFitBesideTheLabelLessOneAndTheErrorSaysWhatToDo()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", 4 << 20);
        using var bus = ImageDirectory.NewBus();
        var region = bus.OpenImage(image);

        var e = Assert.Throws<NamespaceException>(() => region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 1 << 20 }));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.ENOSPC));
            Assert.That(e.Message, Does.Contain("label-less").And.Contain("namespace0.0"));
            Assert.That(File.Exists(image + ".labels"), Is.False);
        });
    }
}
