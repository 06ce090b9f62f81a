using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;

namespace DaxStack.Device.Tests.Namespaces;

/// <summary>Every failure is a clear <see cref="NamespaceException"/> and leaves the image and its files byte for byte as they were.</summary>
public class NamespaceErrorTests
{
    private const long MiB = 1 << 20;

    /// <summary>An image with labels: fsdax namespace0.0 "fs" [0, 4M), raw namespace0.1 [4M, 6M), 2 MiB free.</summary>
    private static string LabelledImage(ImageDirectory dir, string name = "pmem.img")
    {
        string image = dir.PathOf(name);
        using var bus = ImageDirectory.NewBus();
        var region = bus.CreateImage(image, 8 * MiB);
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 4 * MiB, Name = "fs" });
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 2 * MiB });
        bus.Space.CurrentCpu.Persist(region.Namespaces[0].PhysicalAddress, "data that must survive"u8);
        return image;
    }

    private static NamespaceException FailsWithoutChange(ImageDirectory dir, Action<BusRegion> action, string image)
    {
        var before = dir.Snapshot();
        NamespaceException? e;
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.OpenImage(image);
            var namesBefore = region.Namespaces.Select(n => n.Name).ToList();
            e = Assert.Throws<NamespaceException>(() => action(region));
            Assert.That(region.Namespaces.Select(n => n.Name), Is.EqualTo(namesBefore), "the in-memory namespaces are unchanged too");
        }
        Assert.That(dir.Snapshot(), Is.EqualTo(before), "image, labels and badblocks files are byte for byte unchanged and no file was added");
        return e!;
    }

    private static NamespaceException OpenFailsWithoutChange(ImageDirectory dir, string image)
    {
        var before = dir.Snapshot();
        NamespaceException? e;
        using (var bus = ImageDirectory.NewBus())
        {
            e = Assert.Throws<NamespaceException>(() => bus.OpenImage(image));
            Assert.That(bus.Regions, Is.Empty);
        }
        Assert.That(dir.Snapshot(), Is.EqualTo(before));
        return e!;
    }

    [Test]
    public void LabelsChangedByAnotherOpenerSinceThisOneReadThemAreNotOverwritten()
    {
        // Two daxstack processes open the image at once (two concurrent `ndctl create-namespace`):
        // the second to write must not silently replace the labels the first wrote.
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        using var first = ImageDirectory.NewBus();
        using var second = ImageDirectory.NewBus();
        var a = first.OpenImage(image);
        var b = second.OpenImage(image);
        a.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = MiB, Name = "first" });
        var labelsAfterFirst = File.ReadAllBytes(image + ".labels");

        var e = Assert.Throws<NamespaceException>(() => b.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = MiB, Name = "second" }));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.EAGAIN));
            Assert.That(e.Message, Does.Contain("changed by another process"));
            Assert.That(File.ReadAllBytes(image + ".labels"), Is.EqualTo(labelsAfterFirst), "the first opener's namespace is kept");
            Assert.That(b.Namespaces.Select(n => n.FriendlyName), Does.Not.Contain("second"));
        });
        using var third = ImageDirectory.NewBus();
        Assert.That(third.OpenImage(image).Namespaces.Select(n => n.FriendlyName), Does.Contain("first"));
    }

    [Test]
    public void ANamespaceThatDoesNotFitIsRejectedWithEnospc()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        var e = FailsWithoutChange(dir, r => r.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 4 * MiB }), image);
        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENOSPC));
            Assert.That(e.Message, Does.Contain("4194304").And.Contain("2097152").And.EndWith("No space left on device"));
        });
    }

    [Test]
    public void AnAlignedNamespaceThatOnlyFitsUnalignedIsRejectedWithEnospc()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        using (var bus = ImageDirectory.NewBus())
        {
            // Free: [4 KiB, 5 MiB). 4 MiB fit there, but not from a 2 MiB boundary.
            var region = bus.CreateImage(image, 5 * MiB);
            region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4096 });
        }
        var e = FailsWithoutChange(dir, r => r.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = 4 * MiB }), image);
        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENOSPC));
            Assert.That(e.Message, Does.Contain("largest aligned free extent is 2097152"));
        });
    }

    [Test]
    public void ABadAlignmentIsRejectedWithEinval()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        var e = FailsWithoutChange(dir, r => r.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = 2 * MiB, Align = 65536 }), image);
        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(e.Message, Does.Contain("alignment 65536"));
        });
    }

    [Test]
    public void ASizeThatIsNotAMultipleOfTheAlignmentIsRejectedWithEinval()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        var e = FailsWithoutChange(dir, r => r.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4096 + 512 }), image);
        Assert.That(e.Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void ADuplicateNameIsRejectedWithEexist()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        var e = FailsWithoutChange(dir, r => r.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = MiB, Name = "fs" }), image);
        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.EEXIST));
            Assert.That(e.Message, Does.Contain("'fs'"));
        });
    }

    [Test]
    public void ADuplicateUuidIsRejectedWithEexist()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        Guid taken;
        using (var bus = ImageDirectory.NewBus())
            taken = bus.OpenImage(image).Namespaces[0].Uuid!.Value;
        var e = FailsWithoutChange(dir, r => r.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = MiB, Uuid = taken }), image);
        Assert.That(e.Errno, Is.EqualTo(Errno.EEXIST));
    }

    [Test]
    public void DestroyingAnActiveNamespaceWithoutForceIsRejectedWithEbusy()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        var e = FailsWithoutChange(dir, r => r.DestroyNamespace("namespace0.0", force: false), image);
        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.EBUSY));
            Assert.That(e.Message, Does.Contain("--force"));
        });
    }

    [Test]
    public void DestroyingANamespaceThatDoesNotExistIsRejectedWithEnoent()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        var e = FailsWithoutChange(dir, r => r.DestroyNamespace("namespace0.7", force: true), image);
        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENOENT));
            Assert.That(e.Message, Does.Contain("namespace0.0, namespace0.1"));
        });
    }

    [Test]
    public void AReadOnlyRegionRefusesChangesWithErofs()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        var before = dir.Snapshot();
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.OpenImage(image, readOnly: true);
            var e = Assert.Throws<NamespaceException>(() => region.DestroyNamespace("namespace0.1", force: true));
            Assert.That(e!.Errno, Is.EqualTo(Errno.EROFS));
            Assert.Throws<NamespaceException>(() => region.InjectError(region.Namespaces[0], 0, 1));
        }
        Assert.That(dir.Snapshot(), Is.EqualTo(before));
    }

    [TestCase(0, TestName = "ACorruptLabelFileIsRejected(signature byte)")]
    [TestCase(20, TestName = "ACorruptLabelFileIsRejected(label count)")]
    [TestCase(33, TestName = "ACorruptLabelFileIsRejected(image size)")]
    [TestCase(41, TestName = "ACorruptLabelFileIsRejected(checksum)")]
    [TestCase(90, TestName = "ACorruptLabelFileIsRejected(image name)")]
    [TestCase(512 + 3, TestName = "ACorruptLabelFileIsRejected(first label uuid)")]
    [TestCase(512 + 88 + 2, TestName = "ACorruptLabelFileIsRejected(first label offset)")]
    [TestCase(512 + 256 + 116, TestName = "ACorruptLabelFileIsRejected(second label mode)")]
    [TestCase(512 + 256 + 200, TestName = "ACorruptLabelFileIsRejected(second label reserved byte)")]
    public void ACorruptLabelFileIsRejected(int offset)
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        var bytes = File.ReadAllBytes(image + ".labels");
        bytes[offset] ^= 0x10;
        File.WriteAllBytes(image + ".labels", bytes);

        var e = OpenFailsWithoutChange(dir, image);

        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.EIO));
            Assert.That(e.Message, Does.Contain(image + ".labels").And.Contain("corrupt"));
        });
    }

    [Test]
    public void ATruncatedLabelFileIsRejected()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        var bytes = File.ReadAllBytes(image + ".labels");
        File.WriteAllBytes(image + ".labels", bytes[..^256]);

        var e = OpenFailsWithoutChange(dir, image);

        Assert.That(e.Message, Does.Contain("corrupt").And.Contain("truncated"));
    }

    [Test]
    public void ALabelFileThatBelongsToAnotherImageIsRejected()
    {
        using var dir = new ImageDirectory();
        string first = LabelledImage(dir, "first.img");
        string second = dir.PlainImage("second.img", 8 * MiB);
        File.Copy(first + ".labels", second + ".labels");

        var e = OpenFailsWithoutChange(dir, second);

        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENXIO));
            Assert.That(e.Message, Does.Contain("belongs to image 'first.img'").And.Contain("'second.img'"));
        });
    }

    [Test]
    public void ALabelFileWrittenForALargerImageOfTheSameNameIsRejectedAsTruncatedNamingBothSizes()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        using (var fs = new FileStream(image, FileMode.Open))
            fs.SetLength(4 * MiB);

        var e = OpenFailsWithoutChange(dir, image);

        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENXIO));
            Assert.That(e.Message, Does.StartWith(
                $"image '{image}' is now 4194304 bytes; its labels were written for 8388608 bytes: the image is truncated"));
        });
    }

    [Test]
    public void AnImageGrownSinceItsLabelsWereWrittenIsRejectedNamingBothSizesNotAsAnotherImage()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        using (var fs = new FileStream(image, FileMode.Open))
            fs.SetLength(9 * MiB);

        var e = OpenFailsWithoutChange(dir, image);

        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENXIO));
            Assert.That(e.Message, Does.StartWith(
                $"image '{image}' is now 9437184 bytes; its labels were written for 8388608 bytes: the image has grown"));
            Assert.That(e.Message, Does.Not.Contain("another image"));
        });
    }

    [TestCase(100L, "has grown")]
    [TestCase(-100L, "is truncated")]
    [TestCase(-(8L << 20), "is truncated")]
    public void ALabelledImageResizedToAnOddSizeIsRejectedNamingBothSizes(long change, string what)
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        long length = (8L << 20) + change;
        using (var fs = new FileStream(image, FileMode.Open))
            fs.SetLength(length);

        var e = OpenFailsWithoutChange(dir, image);

        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENXIO));
            Assert.That(e.Message, Does.StartWith(
                $"image '{image}' is now {length} bytes; its labels were written for 8388608 bytes: the image {what}"));
        });
    }

    [Test]
    public void AnOddSizedImageWithAnotherImagesLabelsGetsThePlainSizeError()
    {
        using var dir = new ImageDirectory();
        string first = LabelledImage(dir, "first.img");
        string second = dir.PathOf("second.img");
        using (var fs = new FileStream(second, FileMode.CreateNew))
            fs.SetLength(5000);
        File.Copy(first + ".labels", second + ".labels");

        var e = OpenFailsWithoutChange(dir, second);

        Assert.That(e.Message, Does.Contain("5000 bytes, not a positive multiple of 4096"));
    }

    [TestCase(0L)]
    [TestCase(5000L)]
    [TestCase((8L << 20) - 100)]
    public void AnImageThatIsNotAPositiveMultipleOf4096IsRejected(long length)
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("odd.img");
        using (var fs = new FileStream(image, FileMode.CreateNew))
            fs.SetLength(length);

        var e = OpenFailsWithoutChange(dir, image);

        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENXIO));
            Assert.That(e.Message, Does.Contain($"{length} bytes").And.Contain("multiple of 4096"));
        });
    }

    [Test]
    public void ASymbolicLinkToNothingIsAMissingImageNotATruncatedOne()
    {
        using var dir = new ImageDirectory();
        string link = dir.PathOf("dangling.img");
        File.CreateSymbolicLink(link, dir.PathOf("gone.img"));
        using var bus = ImageDirectory.NewBus();

        var e = Assert.Throws<NamespaceException>(() => bus.OpenImage(link));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.ENOENT));
            Assert.That(e.Message, Does.Contain("does not exist"));
        });
    }

    [TestCase(1)]   // a link to itself
    [TestCase(2)]   // two links to each other
    public void ASymbolicLinkLoopIsRejectedWithEloop(int links)
    {
        using var dir = new ImageDirectory();
        for (int i = 0; i < links; i++)
            File.CreateSymbolicLink(dir.PathOf($"loop{i}.img"), dir.PathOf($"loop{(i + 1) % links}.img"));
        var before = Directory.GetFileSystemEntries(dir.Root).Order().ToList();
        using var bus = ImageDirectory.NewBus();

        var e = Assert.Throws<NamespaceException>(() => bus.OpenImage(dir.PathOf("loop0.img")));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.ELOOP), e.Message);
            Assert.That(e.Message, Does.Contain("loop0.img"));
            Assert.That(Directory.GetFileSystemEntries(dir.Root).Order(), Is.EqualTo(before), "nothing created");
        });
    }

    [Test]
    public void AMissingImageIsRejectedWithEnoentAndItsOrphanLabelsAreNamed()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        File.Delete(image);

        var e = OpenFailsWithoutChange(dir, image);

        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENOENT));
            Assert.That(e.Message, Does.Contain("does not exist").And.Contain(".labels"));
        });
    }

    [Test]
    public void CreatingAnImageOverOrphanLabelsIsRefusedAndCreatesNothing()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        File.Delete(image);
        var before = dir.Snapshot();
        using (var bus = ImageDirectory.NewBus())
        {
            var e = Assert.Throws<NamespaceException>(() => bus.CreateImage(image, 8 * MiB));
            Assert.That(e!.Errno, Is.EqualTo(Errno.EEXIST));
        }
        Assert.That(dir.Snapshot(), Is.EqualTo(before));
    }

    [Test]
    public void CreatingAnImageThatExistsIsRefused()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", MiB);
        var before = dir.Snapshot();
        using (var bus = ImageDirectory.NewBus())
            Assert.That(Assert.Throws<NamespaceException>(() => bus.CreateImage(image, MiB))!.Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(dir.Snapshot(), Is.EqualTo(before));
    }

    [Test]
    public void CreatingAnImageByANameEndingInASlashIsADirectoryError()
    {
        using var dir = new ImageDirectory();
        using var bus = ImageDirectory.NewBus();
        var e = Assert.Throws<NamespaceException>(() => bus.CreateImage(dir.PathOf("new") + "/", 4 << 20));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.EISDIR), e.Message);
            Assert.That(Directory.GetFileSystemEntries(dir.PathOf(".")), Is.Empty, "nothing was made");
        });
    }

    [TestCase(".labels", "label file")]
    [TestCase(".badblocks", "badblocks file")]
    public void ASideFileThatIsADirectoryIsReportedAsADirectory(string suffix, string what)
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("pmem.img", 8 * MiB);
        Directory.CreateDirectory(image + suffix);

        var e = OpenFailsWithoutChange(dir, image);

        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.EISDIR), e.Message);
            Assert.That(e.Message, Does.Contain($"{what} '{image}{suffix}'").And.EndWith("Is a directory"));
        });
    }

    [Test]
    public void AnUnknownCostProfileIsRejectedBeforeAnythingIsCreated()
    {
        using var dir = new ImageDirectory();
        using (var bus = ImageDirectory.NewBus())
        {
            var e = Assert.Throws<NamespaceException>(() => bus.CreateImage(dir.PathOf("new.img"), MiB, "optane-gen9"));
            Assert.Multiple(() =>
            {
                Assert.That(e!.Errno, Is.EqualTo(Errno.EINVAL));
                Assert.That(e.Message, Does.Contain("optane-gen9").And.Contain("optane-adr"));
            });
        }
        Assert.That(dir.Snapshot(), Is.Empty);
    }

    [Test]
    public void AHandMadeLabelFileWithOverlappingNamespacesIsRejectedAsCorrupt()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("pmem.img", 8 * MiB);
        NamespaceLabel Label(int index, long offset) => new()
        {
            Uuid = Guid.NewGuid(), Index = index, Offset = offset, Size = 4 * MiB, Align = 4096, SectorSize = 512, Mode = NamespaceMode.Raw,
        };
        var lsa = new LabelStorageArea(new NamespaceIndex { LabelCount = 2, Sequence = 1, ImageSize = 8 * MiB, ImageName = "pmem.img" },
            [Label(0, 0), Label(1, 2 * MiB)]);
        lsa.Save(image + ".labels");

        var e = OpenFailsWithoutChange(dir, image);

        Assert.That(e.Message, Does.Contain("corrupt").And.Contain("overlap"));
    }

    private static NamespaceLabel RawLabel(int index, long offset, long size, string name = "") => new()
    {
        Uuid = Guid.NewGuid(), Index = index, Offset = offset, Size = size, Align = 4096, SectorSize = 512, Mode = NamespaceMode.Raw, Name = name,
    };

    // Many labels in a 2 MiB image: 4 KiB namespaces at every other page, in file order, so that a
    // problem planted among them is between labels far apart in the file and in address order.
    private static List<NamespaceLabel> SpacedLabels(int count) =>
        [.. Enumerable.Range(0, count).Select(i => RawLabel(i, i * 8192L, 4096))];

    private static NamespaceException OpenWithLabelsFails(List<NamespaceLabel> labels)
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("pmem.img", 2 * MiB);
        new LabelStorageArea(new NamespaceIndex { LabelCount = labels.Count, Sequence = 1, ImageSize = 2 * MiB, ImageName = "pmem.img" }, labels)
            .Save(image + ".labels");
        return OpenFailsWithoutChange(dir, image);
    }

    [Test]
    public void AnOverlapBetweenLabelsFarApartInTheFileIsFoundAndTheFirstOverlappingPairNamed()
    {
        var labels = SpacedLabels(200);
        // Label 200 covers label 11 [90112, 94208) and the gaps around it; label 201 covers
        // label 3. The first problem in file order is label 200's overlap with label 11.
        labels.Add(RawLabel(200, 86016, 12288));
        labels.Add(RawLabel(201, 24576, 4096));

        var e = OpenWithLabelsFails(labels);

        Assert.That(e.Message, Does.Contain("corrupt").And.Contain("labels 11 and 200 overlap ([90112, 94208) and [86016, 98304))"));
    }

    [TestCase("index", TestName = "ALabelFileWithTwoLabelsSharingAnIdentityFarApartIsRejected(index)")]
    [TestCase("uuid", TestName = "ALabelFileWithTwoLabelsSharingAnIdentityFarApartIsRejected(uuid)")]
    [TestCase("name", TestName = "ALabelFileWithTwoLabelsSharingAnIdentityFarApartIsRejected(name)")]
    public void ALabelFileWithTwoLabelsSharingAnIdentityFarApartIsRejected(string what)
    {
        var labels = SpacedLabels(200);
        labels[7] = labels[7] with { Name = "seven" };
        labels[190] = what switch
        {
            "index" => labels[190] with { Index = 7 },
            "uuid" => labels[190] with { Uuid = labels[7].Uuid },
            _ => labels[190] with { Name = "seven" },
        };

        var e = OpenWithLabelsFails(labels);

        Assert.That(e.Message, Does.Contain("corrupt").And.Contain($"labels 7 and 190 share {what}"));
    }

    [Test]
    public void ALabelFileCorruptedAfterThisRegionWroteItIsNotReplacedByItsNextChange()
    {
        // The next change compares the file with what this region wrote instead of decoding it
        // again: a file that differs is decoded, so its corruption is still found and kept.
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        using var bus = ImageDirectory.NewBus();
        var region = bus.OpenImage(image);
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = MiB });
        var bytes = File.ReadAllBytes(image + ".labels");
        bytes[^1] ^= 0x40;  // a reserved byte of the last label: only the checksum notices
        File.WriteAllBytes(image + ".labels", bytes);

        var e = Assert.Throws<NamespaceException>(() => region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = MiB }));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.EIO));
            Assert.That(e.Message, Does.Contain("checksum mismatch"));
            Assert.That(File.ReadAllBytes(image + ".labels"), Is.EqualTo(bytes), "the corrupt file is left for inspection");
            Assert.That(region.Namespaces, Has.Count.EqualTo(3));
        });
    }

    /// <summary>
    /// Audit: a label file at the last generation the index can hold (long.MaxValue, a hand-made
    /// or damaged but well-formed file) was replaced by one of generation 2^63, which the next open
    /// rejected as out of range: every namespace in it was lost. The change is now refused.
    /// </summary>
    [Test]
    public void AChangeBeyondTheLastLabelGenerationIsRefusedAndTheLabelsStayReadable()
    {
        using var dir = new ImageDirectory();
        string image = LabelledImage(dir);
        var labels = LabelStorageArea.Load(image + ".labels")!;
        var index = labels.Index;
        new LabelStorageArea(new NamespaceIndex
        {
            LabelCount = index.LabelCount, Sequence = long.MaxValue, ImageSize = index.ImageSize,
            ImageName = index.ImageName, Profile = index.Profile,
        }, labels.Labels).Save(image + ".labels");

        var e = FailsWithoutChange(dir, r => r.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 2 * MiB }), image);

        Assert.That(e.Errno, Is.EqualTo(Errno.EOVERFLOW));
        Assert.That(e.Message, Does.Contain("generation"));
        using var bus = ImageDirectory.NewBus();
        Assert.That(bus.OpenImage(image).Namespaces.Select(n => n.Name), Is.EqualTo(new[] { "namespace0.0", "namespace0.1" }), "the labels still open");
    }
}
