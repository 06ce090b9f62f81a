using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Media;

public class FileMediaTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-media-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static (PhysicalAddressSpace Space, NvdimmRegion Region, Cpu Cpu) Open(FileMedia media)
    {
        var space = new PhysicalAddressSpace();
        var region = new NvdimmRegion("region0", media, CostProfiles.OptaneAdr);
        space.AddRegion(region);
        return (space, region, space.CreateCpu());
    }

    [Test]
    public void FencedStoresSurviveCloseAndReopen()
    {
        string path = Path.Combine(_dir, "pmem.img");
        var (space, region, cpu) = Open(FileMedia.Create(path, 1 << 20));
        cpu.Store(region.BaseAddress + 4096, "hello pmem"u8);
        cpu.Clwb(region.BaseAddress + 4096);
        cpu.Sfence();
        space.Dispose();

        var (space2, region2, cpu2) = Open(FileMedia.Open(path));
        using (space2)
        {
            var b = new byte[10];
            cpu2.Load(region2.BaseAddress + 4096, b);
            Assert.That(b, Is.EqualTo("hello pmem"u8.ToArray()));
        }
    }

    [Test]
    public void ACrashLeavesTheImageWithOnlyPersistedLines()
    {
        string path = Path.Combine(_dir, "pmem.img");
        var (space, region, cpu) = Open(FileMedia.Create(path, 1 << 20));
        cpu.Store(region.BaseAddress, "kept"u8);
        cpu.Clwb(region.BaseAddress);
        cpu.Sfence();
        cpu.Store(region.BaseAddress + 64, "lost"u8);
        space.Crash(CrashPolicy.Strict);
        space.Dispose();

        var bytes = File.ReadAllBytes(path);
        Assert.Multiple(() =>
        {
            Assert.That(bytes.AsSpan(0, 4).ToArray(), Is.EqualTo("kept"u8.ToArray()));
            Assert.That(bytes.AsSpan(64, 4).ToArray(), Is.EqualTo(new byte[4]));
        });
    }

    [Test]
    public void AnOrderlyExitWritesBackEveryStore()
    {
        string path = Path.Combine(_dir, "pmem.img");
        var (space, region, cpu) = Open(FileMedia.Create(path, 1 << 20));
        cpu.Store(region.BaseAddress + 100, "unflushed"u8);
        space.Dispose();
        Assert.That(File.ReadAllBytes(path).AsSpan(100, 9).ToArray(), Is.EqualTo("unflushed"u8.ToArray()));
    }

    [Test]
    public void AMultiGibSparseImageOpensWithoutBeingRead()
    {
        string path = Path.Combine(_dir, "big.img");
        const long size = 16L << 30;
        using (var fs = new FileStream(path, FileMode.CreateNew))
            fs.SetLength(size);
        var (space, region, cpu) = Open(FileMedia.Open(path));
        using (space)
        {
            long last = region.BaseAddress + size - 64;
            cpu.StoreUInt64(last, 0xfeedface);
            Assert.That(cpu.LoadUInt64(last), Is.EqualTo(0xfeedfaceUL));
            Assert.That(region.Size, Is.EqualTo(size));
        }
    }

    [Test]
    public void ASparseImageLargerThanMemoryAndSwapOpensReadOnly()
    {
        // Linux refuses a private writable mapping it would have to back with more memory than the
        // machine has (heuristic overcommit), however little of it is touched; strict accounting
        // (overcommit_memory 2) refuses it whatever the mapping asks.
        Assume.That(MachineMemory.OvercommitPolicy(), Is.Not.EqualTo("2"));
        long memory = MachineMemory.TotalWithSwap();
        long size = (memory * 2 + (1L << 30)) & ~((1L << 30) - 1);
        string path = Path.Combine(_dir, "huge.img");
        using (var fs = new FileStream(path, FileMode.CreateNew))
            fs.SetLength(size);

        var (space, region, cpu) = Open(FileMedia.Open(path, readOnly: true));
        using (space)
        {
            long last = region.BaseAddress + size - 64;
            Assert.That(cpu.LoadUInt64(last), Is.Zero);
            cpu.StoreUInt64(last, 0xfeedface);
            Assert.That(cpu.LoadUInt64(last), Is.EqualTo(0xfeedfaceUL), "the process sees its own store");
        }
        Assert.That(new FileInfo(path).Length, Is.EqualTo(size));
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read))
        {
            var tail = new byte[64];
            fs.Seek(size - 64, SeekOrigin.Begin);
            fs.ReadExactly(tail);
            Assert.That(tail, Is.EqualTo(new byte[64]), "the store never reached the file");
        }
    }

    [Test]
    public void ATruncatedImageIsRejectedWithItsSize()
    {
        string path = Path.Combine(_dir, "bad.img");
        File.WriteAllBytes(path, new byte[4096 * 3 + 100]);
        var e = Assert.Throws<InvalidDataException>(() => FileMedia.Open(path));
        Assert.That(e!.Message, Does.Contain("12388 bytes").And.Contain("multiple of 4096"));
    }

    [Test]
    public void AMissingImageIsReportedByName()
    {
        string path = Path.Combine(_dir, "none.img");
        var e = Assert.Throws<FileNotFoundException>(() => FileMedia.Open(path));
        Assert.That(e!.Message, Does.Contain(path));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void AnImageReachedThroughASymbolicLinkHasItsTargetsSize(bool readOnly)
    {
        string target = Path.Combine(_dir, "pmem.img");
        File.WriteAllBytes(target, Enumerable.Repeat((byte)5, 8192).ToArray());
        string link = Path.Combine(_dir, "link.img");
        File.CreateSymbolicLink(link, "pmem.img");

        using var media = FileMedia.Open(link, readOnly);

        Assert.That(media.Length, Is.EqualTo(8192));
    }

    [Test]
    public void CreatingOverAnExistingImageFailsAndLeavesItAlone()
    {
        string path = Path.Combine(_dir, "pmem.img");
        File.WriteAllBytes(path, Enumerable.Repeat((byte)7, 4096).ToArray());
        Assert.Throws<IOException>(() => FileMedia.Create(path, 8192));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(Enumerable.Repeat((byte)7, 4096).ToArray()));
    }
}

public class NativeMediaTests
{
    [Test]
    public void NativeMediaStartsZeroed()
    {
        using var d = new DeviceFixture(size: 1 << 20);
        Assert.That(d.Load(0, 1 << 20).AsSpan().IndexOfAnyExcept((byte)0), Is.EqualTo(-1));
    }

    [TestCase(0L)]
    [TestCase(4095L)]
    [TestCase(-4096L)]
    public void SizesThatAreNotPositivePageMultiplesAreRejected(long size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Device.Media.NativeMedia(size));
}

public class ReadOnlyFileMediaTests
{
    [Test]
    public void StoresToAReadOnlyImageNeverReachTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-ro-").FullName;
        try
        {
            string path = Path.Combine(dir, "ro.img");
            File.WriteAllBytes(path, Enumerable.Repeat((byte)9, 8192).ToArray());
            using (var space = new Device.Platform.PhysicalAddressSpace())
            {
                var region = new Device.Platform.NvdimmRegion("region0", Device.Media.FileMedia.Open(path, readOnly: true), Device.Cost.CostProfiles.OptaneAdr);
                space.AddRegion(region);
                var cpu = space.CreateCpu();
                cpu.Store(region.BaseAddress, new byte[64]);
                cpu.Clflush(region.BaseAddress);
                Assert.That(cpu.LoadUInt64(region.BaseAddress), Is.Zero, "this process sees its own store");
            }
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(Enumerable.Repeat((byte)9, 8192).ToArray()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
