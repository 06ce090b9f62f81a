using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Poison;

namespace DaxStack.Device.Tests.Namespaces;

public class BadblocksPersistenceTests
{
    private const long MiB = 1 << 20;

    /// <summary>An image with raw namespace0.0 [0, 2M) and fsdax namespace0.1 [2M, 6M).</summary>
    private static string Image(ImageDirectory dir)
    {
        string image = dir.PathOf("pmem.img");
        using var bus = ImageDirectory.NewBus();
        var region = bus.CreateImage(image, 8 * MiB);
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 2 * MiB });
        region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 4 * MiB });
        return image;
    }

    [Test]
    public void InjectedErrorsAreWrittenAsRegionRelativeSectorsBesideTheImage()
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.OpenImage(image);
            region.InjectError(region.GetNamespace("namespace0.1"), 42, 8);
        }

        // namespace0.1 starts 2 MiB = 4096 sectors into the region.
        Assert.That(File.ReadAllText(image + ".badblocks"), Is.EqualTo("4138 8\n"));
    }

    [Test]
    public void TwoOpenersThatChangeThePoisonAtOnceKeepEachOthersRanges()
    {
        // Two daxstack processes have the image open at once (two `ndctl inject-error` runs, or
        // one beside `serve`): each writes the badblocks file, and neither may drop the other's.
        using var dir = new ImageDirectory();
        string image = Image(dir);
        using var first = ImageDirectory.NewBus();
        using var second = ImageDirectory.NewBus();
        var a = first.OpenImage(image);
        var b = second.OpenImage(image);
        var ns = "namespace0.1";

        a.InjectError(a.GetNamespace(ns), 8, 2);
        b.InjectError(b.GetNamespace(ns), 100, 1);
        Assert.That(File.ReadAllText(image + ".badblocks"), Is.EqualTo("4104 2\n4196 1\n"), "both injections are kept");

        Assert.That(a.ClearErrors(a.GetNamespace(ns)), Is.EqualTo(2), "the first clears the blocks it knows of");
        Assert.That(File.ReadAllText(image + ".badblocks"), Is.EqualTo("4196 1\n"), "the second's block stays bad");

        b.UninjectError(b.GetNamespace(ns), 100, 1);
        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(image + ".badblocks"), Is.False, "nothing is left poisoned: the file goes");
            Assert.That(b.BadBlocks(b.GetNamespace(ns)), Is.Empty);
        });
        using var third = ImageDirectory.NewBus();
        var reopened = third.OpenImage(image);
        Assert.That(reopened.BadBlocks(reopened.GetNamespace(ns)), Is.Empty);
    }

    [Test]
    public void APoisonedBlockRaisesAMachineCheckInANewBusAfterReopening()
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.OpenImage(image);
            region.InjectError(region.GetNamespace("namespace0.1"), 42, 8);
        }

        using var again = ImageDirectory.NewBus();
        var reopened = again.OpenImage(image);
        var ns = reopened.GetNamespace("namespace0.1");
        var cpu = again.Space.CurrentCpu;
        var e = Assert.Throws<MachineCheckException>(() => cpu.Load(ns.ToPhysicalAddress(42 * 512 + 100), new byte[8]));
        Assert.Multiple(() =>
        {
            Assert.That(e!.PhysicalAddress, Is.EqualTo(ns.ToPhysicalAddress(42 * 512 + 100)));
            Assert.That(reopened.BadBlocks(ns), Is.EqualTo(new[] { new BadBlock(42, 8) }));
            Assert.DoesNotThrow(() => cpu.Load(ns.ToPhysicalAddress(41 * 512), new byte[512]));
            Assert.DoesNotThrow(() => cpu.Load(ns.ToPhysicalAddress(50 * 512), new byte[512]));
        });
    }

    [Test]
    public void ClearErrorsZeroesTheBadBlocksRemovesThePoisonAndTheFile()
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.OpenImage(image);
            var ns = region.Namespaces[1];
            bus.Space.CurrentCpu.Persist(ns.ToPhysicalAddress(0), Enumerable.Repeat((byte)0xAB, 8192).ToArray());
            region.InjectError(ns, 2, 3);
            Assert.That(region.ClearErrors(ns), Is.EqualTo(3));
        }

        Assert.That(File.Exists(image + ".badblocks"), Is.False);
        using var again = ImageDirectory.NewBus();
        var reopened = again.OpenImage(image);
        var data = new byte[8192];
        again.Space.CurrentCpu.Load(reopened.Namespaces[1].ToPhysicalAddress(0), data);
        Assert.Multiple(() =>
        {
            Assert.That(reopened.BadBlocks(), Is.Empty);
            Assert.That(data[..1024], Is.All.EqualTo(0xAB));
            Assert.That(data[1024..2560], Is.All.EqualTo(0), "the three cleared blocks were rewritten with zeros");
            Assert.That(data[2560..], Is.All.EqualTo(0xAB));
        });
    }

    [Test]
    public void AnInjectionTheBadblocksFileCouldNotRecordLeavesThePoisonAsItWas()
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        string badblocks = image + ".badblocks";
        using var bus = ImageDirectory.NewBus();
        var region = bus.OpenImage(image);
        var ns = region.Namespaces[1];
        // The badblocks file is damaged after this opener read it: recording the change fails.
        File.WriteAllText(badblocks, "not a range\n");

        var e = Assert.Throws<NamespaceException>(() => region.InjectError(ns, 7, 1));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.EIO));
            Assert.That(region.BadBlocks(ns), Is.Empty, "the failed injection poisoned nothing");
            Assert.That(region.Region.Poison.IsEmpty, Is.True);
        });

        // Once the file is repaired, the next change records only what succeeded.
        File.Delete(badblocks);
        region.InjectError(ns, 100, 2);
        Assert.That(File.ReadAllText(badblocks), Is.EqualTo($"{4096 + 100} 2\n"), "the failed injection does not surface later");
    }

    [Test]
    public void AnInjectionThatWouldOutgrowTheBadblocksFileIsRefusedWithEnospcAndTheFileStaysReadable()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("big.img");
        using (var fs = new FileStream(image, FileMode.CreateNew))
            fs.SetLength(1L << 40);
        // As many separate ranges as the largest valid file holds, 13 bytes a line.
        string badblocks = image + ".badblocks";
        long lines = BadblocksFile.MaxFileSize / 13;
        using (var w = new StreamWriter(badblocks))
        {
            for (long i = 0; i < lines; i++)
                w.Write($"{1_000_000_000 + 2 * i} 1\n");
        }
        long before = new FileInfo(badblocks).Length;
        using var bus = ImageDirectory.NewBus();
        var region = bus.OpenImage(image);
        var ns = region.Namespaces.Single();

        var e = Assert.Throws<NamespaceException>(() => region.InjectError(ns, 1_999_999_999, 1));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.ENOSPC));
            Assert.That(new FileInfo(badblocks).Length, Is.EqualTo(before), "the file is as it was");
            Assert.That(region.BadBlocks(ns), Has.Count.EqualTo(lines), "the refused range was not poisoned");
        });
        // An injection that joins two recorded ranges into one makes the file smaller: accepted.
        region.InjectError(ns, 1_000_000_001, 1);
        using var again = ImageDirectory.NewBus();
        var reopened = again.OpenImage(image);
        Assert.That(reopened.BadBlocks(reopened.Namespaces.Single()), Has.Count.EqualTo(lines - 1), "the file reads back");
    }

    [Test]
    public void AnUninjectionTheBadblocksFileCouldNotRecordLeavesThePoisonAsItWas()
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        string badblocks = image + ".badblocks";
        using var bus = ImageDirectory.NewBus();
        var region = bus.OpenImage(image);
        var ns = region.Namespaces[1];
        region.InjectError(ns, 7, 1);
        File.WriteAllText(badblocks, "not a range\n");

        Assert.Throws<NamespaceException>(() => region.UninjectError(ns, 7, 1));

        Assert.That(region.BadBlocks(ns), Is.EqualTo(new[] { new BadBlock(7, 1) }), "the block is still bad, as the file says it was");
    }

    [Test]
    public void ClearErrorsWithACorruptBadblocksFileFailsBeforeZeroingAnything()
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        string badblocks = image + ".badblocks";
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.OpenImage(image);
            var ns = region.Namespaces[1];
            bus.Space.CurrentCpu.Persist(ns.ToPhysicalAddress(0), Enumerable.Repeat((byte)0xAB, 8192).ToArray());
            region.InjectError(ns, 2, 3);
            File.WriteAllText(badblocks, "not a range\n");

            var e = Assert.Throws<NamespaceException>(() => region.ClearErrors(ns));

            Assert.Multiple(() =>
            {
                Assert.That(e!.Errno, Is.EqualTo(Errno.EIO));
                Assert.That(e.Message, Does.Contain("badblocks file"));
                Assert.That(region.BadBlocks(ns), Is.EqualTo(new[] { new BadBlock(2, 3) }), "the blocks are still bad");
            });
        }

        File.Delete(badblocks);
        using var again = ImageDirectory.NewBus();
        var reopened = again.OpenImage(image);
        var data = new byte[8192];
        again.Space.CurrentCpu.Load(reopened.Namespaces[1].ToPhysicalAddress(0), data);
        Assert.That(data, Is.All.EqualTo(0xAB), "no block was zeroed by the failed clear-errors");
    }

    [Test]
    public void ClearErrorsLeavesOtherNamespacesPoisonAlone()
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        using var bus = ImageDirectory.NewBus();
        var region = bus.OpenImage(image);
        region.InjectError(region.Namespaces[0], 0, 1);
        region.InjectError(region.Namespaces[1], 0, 1);

        region.ClearErrors(region.Namespaces[1]);

        Assert.Multiple(() =>
        {
            Assert.That(region.BadBlocks(), Is.EqualTo(new[] { new BadBlock(0, 1) }));
            Assert.That(File.ReadAllText(image + ".badblocks"), Is.EqualTo("0 1\n"));
        });
    }

    [Test]
    public void UninjectRemovesOnlyTheNamedBlocksWithoutWritingThem()
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.OpenImage(image);
            region.InjectError(region.Namespaces[0], 10, 10);
            region.UninjectError(region.Namespaces[0], 12, 2);
        }

        using var again = ImageDirectory.NewBus();
        Assert.That(again.OpenImage(image).BadBlocks(), Is.EqualTo(new[] { new BadBlock(10, 2), new BadBlock(14, 6) }));
    }

    [Test]
    public void PoisonAddedDirectlyToTheRegionIsPersistedToo()
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        using (var bus = ImageDirectory.NewBus())
            bus.OpenImage(image).Region.Poison.Add(4096, 100);

        Assert.That(File.ReadAllText(image + ".badblocks"), Is.EqualTo("8 1\n"));
    }

    [TestCase(-1L, 1L)]
    [TestCase(0L, 0L)]
    [TestCase(4095L, 2L)]
    [TestCase(4096L, 1L)]
    public void BlocksOutsideTheNamespaceAreRejectedAndNothingIsWritten(long block, long count)
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        var before = dir.Snapshot();
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.OpenImage(image);
            var e = Assert.Throws<NamespaceException>(() => region.InjectError(region.Namespaces[0], block, count));
            Assert.That(e!.Errno, Is.EqualTo(Errno.EINVAL));
        }
        Assert.That(dir.Snapshot(), Is.EqualTo(before));
    }

    [TestCase("12 x\n", "line 1")]
    [TestCase("1 1\n2\n", "line 2")]
    [TestCase("1 1 1\n", "line 1")]
    [TestCase("-1 4\n", "line 1")]
    [TestCase("5 0\n", "0 sectors")]
    [TestCase("16383 2\n", "outside")]
    [TestCase("99999999999999999999 1\n", "line 1")]
    public void ACorruptBadblocksFileIsRejectedNamingTheLine(string text, string expected)
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        File.WriteAllText(image + ".badblocks", text);
        var before = dir.Snapshot();

        using (var bus = ImageDirectory.NewBus())
        {
            var e = Assert.Throws<NamespaceException>(() => bus.OpenImage(image));
            Assert.Multiple(() =>
            {
                Assert.That(e!.Errno, Is.EqualTo(Errno.EIO));
                Assert.That(e.Message, Does.Contain("badblocks file").And.Contain("corrupt").And.Contain(expected));
            });
        }
        Assert.That(dir.Snapshot(), Is.EqualTo(before));
    }

    [Test]
    public void ABadblocksFileBesideAPlainImageIsLoaded()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", MiB);
        File.WriteAllText(image + ".badblocks", "8 2\n\n2047 1\n");

        using var bus = ImageDirectory.NewBus();
        var region = bus.OpenImage(image);

        Assert.Multiple(() =>
        {
            Assert.That(region.BadBlocks(region.Namespaces[0]), Is.EqualTo(new[] { new BadBlock(8, 2), new BadBlock(2047, 1) }));
            Assert.Throws<MachineCheckException>(() => bus.Space.CurrentCpu.Load(region.Namespaces[0].ToPhysicalAddress(2047 * 512), new byte[1]));
        });
    }

    [Test]
    public void PoisonPastTheRegionIsRefusedAndTheImageStillOpens()
    {
        using var dir = new ImageDirectory();
        string image = Image(dir);
        using (var bus = ImageDirectory.NewBus())
        {
            var region = bus.OpenImage(image);
            region.InjectError(region.GetNamespace("namespace0.0"), 0, 1);
            Assert.Throws<ArgumentOutOfRangeException>(() => region.Region.Poison.Add(region.Region.Size - 512, 1024));
            Assert.Throws<ArgumentOutOfRangeException>(() => region.Region.Poison.Add(region.Region.Size, 512));
        }
        Assert.That(File.ReadAllText(image + ".badblocks"), Is.EqualTo("0 1\n"));
        using (var bus = ImageDirectory.NewBus())
            Assert.That(bus.OpenImage(image).BadBlocks(), Is.EqualTo(new[] { new BadBlock(0, 1) }));
    }
}
