using System.Buffers.Binary;
using DaxStack.Device.Namespaces;

namespace DaxStack.Device.Tests.Namespaces;

public class LabelFormatTests
{
    private static readonly NamespaceLabel Sample = new()
    {
        Uuid = Guid.Parse("78859303-f609-4a19-a053-18cc37f8c13e"),
        Name = "données",
        Index = 3,
        Offset = 2L << 30,
        Size = 1L << 30,
        Align = NamespaceAlignment.Pud,
        SectorSize = 0,
        Mode = NamespaceMode.Devdax,
        Map = MemmapLocation.Mem,
    };

    [Test]
    public void ALabelRoundTripsThroughItsEncoding()
    {
        var bytes = new byte[NamespaceLabel.EncodedSize];
        Sample.WriteTo(bytes);

        Assert.That(NamespaceLabel.ReadFrom(bytes), Is.EqualTo(Sample));
    }

    [Test]
    public void ALabelStoresTheUuidInRfc4122ByteOrderAndFieldsLittleEndian()
    {
        var bytes = new byte[NamespaceLabel.EncodedSize];
        Sample.WriteTo(bytes);

        Assert.Multiple(() =>
        {
            Assert.That(Convert.ToHexString(bytes, 0, 16), Is.EqualTo("78859303F6094A19A05318CC37F8C13E"));
            Assert.That(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(88)), Is.EqualTo(2L << 30));
            Assert.That(bytes[116], Is.EqualTo((byte)NamespaceMode.Devdax));
        });
    }

    [Test]
    public void ALabelFileRoundTripsAndItsChecksumCoversEveryByte()
    {
        var lsa = new LabelStorageArea(new NamespaceIndex { LabelCount = 0, Sequence = 7, ImageSize = 4L << 30, ImageName = "pmem.img", Profile = "dram" }, [Sample]);
        var bytes = lsa.ToBytes();

        var parsed = LabelStorageArea.Parse(bytes, "test");
        Assert.Multiple(() =>
        {
            Assert.That(bytes, Has.Length.EqualTo(NamespaceIndex.EncodedSize + NamespaceLabel.EncodedSize));
            Assert.That(parsed.Labels, Is.EqualTo(new[] { Sample }));
            Assert.That(parsed.Index.LabelCount, Is.EqualTo(1));
            Assert.That(parsed.Index.Sequence, Is.EqualTo(7));
            Assert.That(parsed.Index.ImageName, Is.EqualTo("pmem.img"));
            Assert.That(parsed.Index.Profile, Is.EqualTo("dram"));
        });

        // Every single-bit flip anywhere in the file is caught.
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] ^= 1;
            Assert.Throws<NamespaceException>(() => LabelStorageArea.Parse(bytes, "test"), $"flip at byte {i}");
            bytes[i] ^= 1;
        }
    }

    [Test]
    public void SavingALabelFileReplacesItWholeAndLeavesNoTemporaryFiles()
    {
        using var dir = new ImageDirectory();
        string path = dir.PathOf("pmem.img.labels");
        File.WriteAllText(path, "old");
        var lsa = new LabelStorageArea(new NamespaceIndex { LabelCount = 0, Sequence = 1, ImageSize = 4096, ImageName = "pmem.img" }, []);

        lsa.Save(path);

        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(lsa.ToBytes()));
            Assert.That(Directory.GetFiles(dir.Root), Has.Length.EqualTo(1));
        });
    }

    [Test]
    public void AnImageWhoseSideFileNamesAreValidButLongGetsItsLabelsAndBadblocksWritten()
    {
        // NAME_MAX is 255 bytes: the image (224 bytes), its label file (231) and its badblocks
        // file (234) are all valid names, so writing them must not fail for a longer temporary name.
        using var dir = new ImageDirectory();
        string image = dir.PathOf(new string('a', 220) + ".img");
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.CreateImage(image, 8 << 20);
            var ns = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4 << 20 });
            region.InjectError(ns, 1, 1);
        }

        using var again = ImageDirectory.NewBus();
        var reopened = again.OpenImage(image);
        Assert.Multiple(() =>
        {
            Assert.That(reopened.Namespaces, Has.Count.EqualTo(1));
            Assert.That(reopened.BadBlocks(), Is.EqualTo(new[] { new BadBlock(1, 1) }));
            Assert.That(Directory.GetFiles(dir.Root).Select(Path.GetFileName),
                Is.EquivalentTo(new[] { Path.GetFileName(image), Path.GetFileName(image) + ".labels", Path.GetFileName(image) + ".badblocks" }),
                "no temporary file is left behind");
        });
    }
}
