using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Poison;
using DaxStack.Tools.Cli;

namespace DaxStack.Device.Tests.Namespaces;

/// <summary>The <c>daxstack ndctl</c> commands end to end: each run is a new host and bus, as a new process would be.</summary>
public class NdctlCliTests
{
    private sealed record Result(int Exit, string Out, string Err)
    {
        public JsonNode Json => JsonNode.Parse(Out) ?? throw new InvalidOperationException("no JSON output");
    }

    private static Result Ndctl(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = DaxstackProgram.Run(["ndctl", .. args], stdout, stderr);
        return new Result(exit, stdout.ToString(), stderr.ToString());
    }

    [Test]
    public void CreateNamespaceMakesASparseImageAndPrintsTheNamespaceAsNdctlDoes()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");

        var r = Ndctl("create-namespace", "--image", image, "--size", "64M", "--mode", "fsdax");

        Assert.That(r.Exit, Is.EqualTo(0), r.Err);
        var ns = r.Json.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(r.Err, Does.Contain("created image").And.Contain(image));
            Assert.That(new FileInfo(image).Length, Is.EqualTo(64L << 20));
            Assert.That(ns["dev"]!.GetValue<string>(), Is.EqualTo("namespace0.0"));
            Assert.That(ns["mode"]!.GetValue<string>(), Is.EqualTo("fsdax"));
            Assert.That(ns["map"]!.GetValue<string>(), Is.EqualTo("dev"));
            Assert.That(ns["size"]!.GetValue<long>(), Is.EqualTo(64L << 20));
            Assert.That(Guid.TryParse(ns["uuid"]!.GetValue<string>(), out _), Is.True);
            Assert.That(ns["sector_size"]!.GetValue<int>(), Is.EqualTo(512));
            Assert.That(ns["align"]!.GetValue<long>(), Is.EqualTo(2L << 20));
            Assert.That(ns["blockdev"]!.GetValue<string>(), Is.EqualTo("pmem0"));
            Assert.That(ns.Select(p => p.Key), Is.EqualTo(new[] { "dev", "mode", "map", "size", "uuid", "sector_size", "align", "blockdev" }));
        });
    }

    [Test]
    public void CreateListAndDestroyRoundTripAcrossRuns()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Assert.That(Ndctl("create-namespace", "--image", image, "-s", "16M", "-m", "raw").Exit, Is.EqualTo(0));
        Assert.That(Ndctl("destroy-namespace", "namespace0.0", "--image", image, "--force").Exit, Is.EqualTo(0));
        var dax = Ndctl("create-namespace", "--image", image, "-s", "8M", "-m", "devdax", "-a", "2M", "-n", "db");
        var fs = Ndctl("create-namespace", "--image", image, "-m", "fsdax");
        Assert.That(dax.Exit + fs.Exit, Is.EqualTo(0), dax.Err + fs.Err);

        var list = Ndctl("list", "--image", image);

        Assert.That(list.Exit, Is.EqualTo(0), list.Err);
        var items = list.Json.AsArray();
        Assert.That(items, Has.Count.EqualTo(2));
        Assert.Multiple(() =>
        {
            Assert.That(items[0]!["dev"]!.GetValue<string>(), Is.EqualTo("namespace0.0"));
            Assert.That(items[0]!["mode"]!.GetValue<string>(), Is.EqualTo("devdax"));
            Assert.That(items[0]!["chardev"]!.GetValue<string>(), Is.EqualTo("dax0.0"));
            Assert.That(items[0]!["name"]!.GetValue<string>(), Is.EqualTo("db"));
            Assert.That(items[0]!["sector_size"], Is.Null);
            Assert.That(items[1]!["dev"]!.GetValue<string>(), Is.EqualTo("namespace0.1"));
            Assert.That(items[1]!["size"]!.GetValue<long>(), Is.EqualTo(8L << 20));
        });

        Assert.That(Ndctl("destroy-namespace", "db", "--image", image, "-f").Exit, Is.EqualTo(0));
        var after = Ndctl("list", "--image", image).Json.AsArray();
        Assert.That(after.Select(n => n!["dev"]!.GetValue<string>()), Is.EqualTo(new[] { "namespace0.1" }));
    }

    [Test]
    public void ListWithRegionsNestsTheNamespacesAndReportsFreeSpace()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Ndctl("create-namespace", "--image", image, "-s", "32M", "-m", "raw");
        Ndctl("destroy-namespace", "0.0", "--image", image, "-f");
        Ndctl("create-namespace", "--image", image, "-s", "8M", "-m", "fsdax", "--profile", "optane-eadr");

        var r = Ndctl("list", "--image", image, "-R", "-N");

        Assert.That(r.Exit, Is.EqualTo(0), r.Err);
        var region = r.Json.AsArray().Single()!;
        Assert.Multiple(() =>
        {
            Assert.That(region["dev"]!.GetValue<string>(), Is.EqualTo("region0"));
            Assert.That(region["size"]!.GetValue<long>(), Is.EqualTo(32L << 20));
            Assert.That(region["available_size"]!.GetValue<long>(), Is.EqualTo(24L << 20));
            Assert.That(region["max_available_extent"]!.GetValue<long>(), Is.EqualTo(24L << 20));
            Assert.That(region["type"]!.GetValue<string>(), Is.EqualTo("pmem"));
            Assert.That(region["persistence_domain"]!.GetValue<string>(), Is.EqualTo("cpu_cache"), "optane-eadr was recorded");
            Assert.That(region["namespaces"]!.AsArray().Single()!["dev"]!.GetValue<string>(), Is.EqualTo("namespace0.0"));
        });
    }

    [Test]
    public void ListOfNamespaceAllListsEveryNamespaceAsNdctlDoes()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Ndctl("create-namespace", "--image", image, "-s", "8M", "-m", "raw");
        Ndctl("destroy-namespace", "0.0", "--image", image, "-f");
        Ndctl("create-namespace", "--image", image, "-s", "4M", "-m", "fsdax");
        Ndctl("create-namespace", "--image", image, "-s", "2M", "-m", "raw");

        var r = Ndctl("list", "--image", image, "--namespace", "all");

        Assert.That(r.Exit, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Is.Not.Empty, "ndctl's namespace filter takes 'all' as every namespace");
        Assert.That(r.Json.AsArray().Select(n => n!["dev"]!.GetValue<string>()), Is.EqualTo(new[] { "namespace0.0", "namespace0.1" }));
    }

    [Test]
    public void HumanListingOfOneNamespacePrintsTheObjectWithReadableSizes()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Ndctl("create-namespace", "--image", image, "-s", "4G", "-m", "fsdax");

        var r = Ndctl("list", "--image", image, "-u");

        Assert.That(r.Exit, Is.EqualTo(0), r.Err);
        Assert.Multiple(() =>
        {
            Assert.That(r.Json["size"]!.GetValue<string>(), Is.EqualTo("4.00 GiB (4.29 GB)"));
            Assert.That(r.Json["align"]!.GetValue<long>(), Is.EqualTo(2L << 20));
        });
    }

    [Test]
    public void ListOfAPlainImageShowsOneRawNamespaceWithoutAUuid()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", 1 << 20);

        var r = Ndctl("list", "--image", image);

        Assert.That(r.Exit, Is.EqualTo(0), r.Err);
        var ns = r.Json.AsArray().Single()!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(ns["mode"]!.GetValue<string>(), Is.EqualTo("raw"));
            Assert.That(ns.ContainsKey("uuid"), Is.False);
            Assert.That(ns["size"]!.GetValue<long>(), Is.EqualTo(1 << 20));
            Assert.That(File.Exists(image + ".labels"), Is.False);
        });
    }

    [Test]
    public void InjectErrorPersistsPoisonThatALaterProcessHitsAndClearErrorsRemovesIt()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Ndctl("create-namespace", "--image", image, "-s", "8M", "-m", "fsdax");

        var inject = Ndctl("inject-error", "namespace0.0", "--image", image, "-B", "42", "-n", "8");
        Assert.That(inject.Exit, Is.EqualTo(0), inject.Err);
        Assert.Multiple(() =>
        {
            Assert.That(inject.Json["badblock_count"]!.GetValue<long>(), Is.EqualTo(8));
            Assert.That(inject.Json["badblocks"]![0]!["offset"]!.GetValue<long>(), Is.EqualTo(42));
            Assert.That(inject.Json["badblocks"]![0]!["length"]!.GetValue<long>(), Is.EqualTo(8));
        });

        var status = Ndctl("inject-error", "namespace0.0", "--image", image, "--status");
        Assert.That(status.Json["badblocks"]![0]!["block"]!.GetValue<long>(), Is.EqualTo(42));
        Assert.That(status.Json["badblocks"]![0]!["count"]!.GetValue<long>(), Is.EqualTo(8));

        var media = Ndctl("list", "--image", image, "-M").Json.AsArray().Single()!;
        Assert.That(media["badblocks"]!.AsArray(), Has.Count.EqualTo(1));

        using (var bus = ImageDirectory.NewBus())
        {
            var ns = bus.OpenImage(image).Namespaces[0];
            Assert.Throws<MachineCheckException>(() => bus.Space.CurrentCpu.Load(ns.ToPhysicalAddress(42 * 512), new byte[64]));
        }

        var clear = Ndctl("clear-errors", "namespace0.0", "--image", image);
        Assert.That(clear.Exit, Is.EqualTo(0), clear.Err);
        Assert.That(clear.Err, Does.Contain("cleared 8 blocks in namespace0.0"));
        Assert.That(Ndctl("inject-error", "0.0", "--image", image, "-t").Out, Is.Empty);
        using (var bus = ImageDirectory.NewBus())
        {
            var ns = bus.OpenImage(image).Namespaces[0];
            Assert.DoesNotThrow(() => bus.Space.CurrentCpu.Load(ns.ToPhysicalAddress(42 * 512), new byte[64]));
        }
    }

    [Test]
    public void ReconfigureWithForceTurnsAPlainImageIntoADevdaxNamespace()
    {
        using var dir = new ImageDirectory();
        string image = dir.PlainImage("plain.img", 4 << 20);

        var busy = Ndctl("create-namespace", "--image", image, "-e", "namespace0.0", "-m", "devdax");
        var done = Ndctl("create-namespace", "--image", image, "-e", "namespace0.0", "-m", "devdax", "-f");

        Assert.Multiple(() =>
        {
            Assert.That(busy.Exit, Is.EqualTo(1));
            Assert.That(busy.Err, Does.StartWith("ndctl create-namespace: namespace0.0 is active"));
            Assert.That(done.Exit, Is.EqualTo(0), done.Err);
            Assert.That(done.Json["mode"]!.GetValue<string>(), Is.EqualTo("devdax"));
            Assert.That(done.Json["size"]!.GetValue<long>(), Is.EqualTo(4 << 20));
        });
    }

    [Test]
    public void ReconfigureWithoutAModeKeepsTheNamespacesModeAndAlignmentAsNdctlDoes()
    {
        // ndctl create-namespace -e takes the mode of the namespace when -m is not given, and its
        // alignment when the mode stays the same: renaming a devdax namespace leaves it devdax.
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Assert.That(Ndctl("create-namespace", "--image", image, "-s", "1G", "-m", "devdax", "-a", "1G").Exit, Is.EqualTo(0));

        var r = Ndctl("create-namespace", "--image", image, "-e", "namespace0.0", "-f", "-n", "db");

        Assert.That(r.Exit, Is.EqualTo(0), r.Err);
        Assert.Multiple(() =>
        {
            Assert.That(r.Json["mode"]!.GetValue<string>(), Is.EqualTo("devdax"));
            Assert.That(r.Json["align"]!.GetValue<long>(), Is.EqualTo(1L << 30));
            Assert.That(r.Json["chardev"]!.GetValue<string>(), Is.EqualTo("dax0.0"));
            Assert.That(r.Json["name"]!.GetValue<string>(), Is.EqualTo("db"));
        });
    }

    [Test]
    public void ReconfigureGivesTheNamespaceANewUuidUnlessOneIsGivenAsNdctlDoes()
    {
        // ndctl's validate_namespace_options generates a uuid for -e as for a new namespace: the
        // reconfigured namespace is a new one in the old one's place (its name and size stay).
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        var created = Ndctl("create-namespace", "--image", image, "-s", "8M", "-n", "db");
        Assert.That(created.Exit, Is.EqualTo(0), created.Err);
        string first = created.Json["uuid"]!.GetValue<string>();

        var fresh = Ndctl("create-namespace", "--image", image, "-e", "namespace0.0", "-f", "-m", "raw");
        const string given = "0b3c1a52-8f1e-4d7b-9a55-2f4c6e8d0a11";
        var chosen = Ndctl("create-namespace", "--image", image, "-e", "db", "-f", "-u", given);
        var listed = Ndctl("list", "--image", image);

        Assert.That(fresh.Exit, Is.EqualTo(0), fresh.Err);
        Assert.That(chosen.Exit, Is.EqualTo(0), chosen.Err);
        Assert.Multiple(() =>
        {
            Assert.That(Guid.TryParse(fresh.Json["uuid"]!.GetValue<string>(), out var second), Is.True);
            Assert.That(second, Is.Not.EqualTo(Guid.Parse(first)));
            Assert.That(fresh.Json["name"]!.GetValue<string>(), Is.EqualTo("db"));
            Assert.That(fresh.Json["size"]!.GetValue<long>(), Is.EqualTo(8L << 20));
            Assert.That(chosen.Json["uuid"]!.GetValue<string>(), Is.EqualTo(given));
            Assert.That(listed.Out, Does.Contain(given), "the given uuid is what the label file keeps");
        });
    }

    [Test]
    public void ReconfigureASectorNamespaceWithoutAModeKeepsItsSectorSize()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Assert.That(Ndctl("create-namespace", "--image", image, "-s", "8M", "-m", "sector", "-l", "512").Exit, Is.EqualTo(0));

        var r = Ndctl("create-namespace", "--image", image, "-e", "0.0", "-f", "-s", "4M");

        Assert.That(r.Exit, Is.EqualTo(0), r.Err);
        Assert.Multiple(() =>
        {
            Assert.That(r.Json["mode"]!.GetValue<string>(), Is.EqualTo("sector"));
            Assert.That(r.Json["sector_size"]!.GetValue<int>(), Is.EqualTo(512));
            Assert.That(r.Json["size"]!.GetValue<long>(), Is.EqualTo(4L << 20));
        });
    }

    [TestCase("invalid --size '1X'", "create-namespace", "--image", "IMG", "--size", "1X")]
    [TestCase("invalid mode 'dax2'", "create-namespace", "--image", "IMG", "--mode", "dax2")]
    [TestCase("alignment 65536 is not supported", "create-namespace", "--image", "IMG", "-s", "2M", "-m", "devdax", "--align", "64K")]
    [TestCase("not a multiple", "create-namespace", "--image", "IMG", "--size", "3M")]
    [TestCase("No space left on device", "create-namespace", "--image", "IMG", "--size", "1G")]
    [TestCase("already has a namespace named 'fs'", "create-namespace", "--image", "IMG", "-s", "2M", "--name", "fs")]
    [TestCase("invalid --map 'disk'", "create-namespace", "--image", "IMG", "-s", "2M", "--map", "disk")]
    [TestCase("unknown cost profile 'nosuch'", "create-namespace", "--image", "IMG", "-s", "2M", "--profile", "nosuch")]
    [TestCase("is active, specify --force", "destroy-namespace", "namespace0.0", "--image", "IMG")]
    [TestCase("no namespace 'namespace0.5'", "destroy-namespace", "namespace0.5", "-f", "--image", "IMG")]
    [TestCase("--block is required", "inject-error", "namespace0.0", "--image", "IMG")]
    [TestCase("outside namespace0.0", "inject-error", "fs", "-B", "8192", "--image", "IMG")]
    [TestCase("no namespace 'missing'", "clear-errors", "missing", "--image", "IMG")]
    [TestCase("Unrecognized command or argument '--bogus'", "list", "--bogus", "--image", "IMG")]
    public void ErrorsAreOneNdctlLineOnStderrWithStatus1AndChangeNothing(string expected, params string[] args)
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Ndctl("create-namespace", "--image", image, "-s", "8M", "-m", "raw");
        Ndctl("destroy-namespace", "0.0", "--image", image, "-f");
        Ndctl("create-namespace", "--image", image, "-s", "4M", "-m", "fsdax", "-n", "fs");
        var before = dir.Snapshot();

        var r = Ndctl([.. args.Select(a => a == "IMG" ? image : a)]);

        Assert.Multiple(() =>
        {
            Assert.That(r.Exit, Is.EqualTo(1));
            Assert.That(r.Err, Does.StartWith($"ndctl {args[0]}: ").And.Contain(expected));
            Assert.That(r.Err.Split('\n').Count(l => l.StartsWith("ndctl ", StringComparison.Ordinal)), Is.EqualTo(1));
            Assert.That(r.Err, Does.Not.Contain("   at "), "no stack trace");
            Assert.That(r.Out, Is.Empty);
            Assert.That(dir.Snapshot(), Is.EqualTo(before));
        });
    }

    [Test]
    public void ACorruptLabelFileIsReportedByEveryCommandWithoutAStackTrace()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Ndctl("create-namespace", "--image", image, "-s", "8M", "-m", "fsdax");
        var bytes = File.ReadAllBytes(image + ".labels");
        bytes[600] ^= 0xFF;
        File.WriteAllBytes(image + ".labels", bytes);

        foreach (var args in new[]
        {
            new[] { "list", "--image", image },
            ["create-namespace", "--image", image, "-s", "2M"],
            ["destroy-namespace", "0.0", "-f", "--image", image],
            ["inject-error", "0.0", "-B", "1", "--image", image],
            ["clear-errors", "0.0", "--image", image],
        })
        {
            var r = Ndctl(args);
            Assert.Multiple(() =>
            {
                Assert.That(r.Exit, Is.EqualTo(1), args[0]);
                Assert.That(r.Err, Does.StartWith($"ndctl {args[0]}: label file '{image}.labels' is corrupt"), args[0]);
                Assert.That(r.Err, Does.Not.Contain("   at "));
            });
        }
    }

    [TestCase(1L << 20, "has grown since its labels were written")]
    [TestCase(-(1L << 20), "is truncated")]
    public void AnImageResizedSinceItsNamespacesWereCreatedIsRefusedNamingBothSizes(long change, string what)
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Assert.That(Ndctl("create-namespace", "--image", image, "-s", "8M", "-m", "fsdax").Exit, Is.EqualTo(0));
        using (var fs = new FileStream(image, FileMode.Open))
            fs.SetLength(fs.Length + change);
        var before = dir.Snapshot();

        var r = Ndctl("list", "--image", image);

        Assert.Multiple(() =>
        {
            Assert.That(r.Exit, Is.EqualTo(1));
            Assert.That(r.Err, Does.StartWith(
                $"ndctl list: image '{image}' is now {(8L << 20) + change} bytes; its labels were written for 8388608 bytes: the image {what}"));
            Assert.That(r.Err, Does.Not.Contain("another image"));
            Assert.That(dir.Snapshot(), Is.EqualTo(before));
        });
    }

    [Test]
    public void MissingImageOptionIsAnNdctlError()
    {
        var r = Ndctl("list");
        Assert.Multiple(() =>
        {
            Assert.That(r.Exit, Is.EqualTo(1));
            Assert.That(r.Err.Trim(), Is.EqualTo("ndctl list: --image FILE is required"));
        });
    }

    [Test]
    public void CreatingANewImageWithoutASizeIsRefusedAndCreatesNothing()
    {
        using var dir = new ImageDirectory();
        var r = Ndctl("create-namespace", "--image", dir.PathOf("new.img"), "-m", "devdax");
        Assert.Multiple(() =>
        {
            Assert.That(r.Exit, Is.EqualTo(1));
            Assert.That(r.Err, Does.Contain("give --size"));
            Assert.That(dir.Snapshot(), Is.Empty);
        });
    }

    [Test]
    public void CreatingANewImageWithInvalidOptionsCreatesNothing()
    {
        using var dir = new ImageDirectory();
        var r = Ndctl("create-namespace", "--image", dir.PathOf("new.img"), "-s", "3M", "-m", "devdax");
        Assert.Multiple(() =>
        {
            Assert.That(r.Exit, Is.EqualTo(1));
            Assert.That(r.Err, Does.Contain("not a multiple"));
            Assert.That(dir.Snapshot(), Is.Empty);
        });
    }

    [Test]
    public void AnImageTooLargeForTheFileSystemOrTheAddressSpaceIsRefusedAndLeavesNothingBehind()
    {
        using var dir = new ImageDirectory();
        // Larger than ext4 allows (EFBIG) and than any 64-bit process can map: either way it fails.
        var r = Ndctl("create-namespace", "--image", dir.PathOf("huge.img"), "-s", "0x7ffffffffffff000", "-m", "raw");
        Assert.Multiple(() =>
        {
            Assert.That(r.Exit, Is.EqualTo(1), r.Err);
            Assert.That(r.Err, Does.StartWith("ndctl create-namespace: cannot create image"));
            Assert.That(r.Err, Does.Not.Contain("internal error"));
            Assert.That(dir.Snapshot(), Is.Empty, "no half-made image is left behind");
        });
    }

    [TestCase("all")]
    [TestCase("namespace0.1")]
    [TestCase("0.1")]
    [TestCase("namespace1.0")]
    public void AFriendlyNameThatOtherCommandsWouldReadAsANamespaceOrAllIsRefused(string name)
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Assert.That(Ndctl("create-namespace", "--image", image, "-s", "8M", "-m", "fsdax", "-a", "4K", "-n", "keep").Exit, Is.EqualTo(0));
        var before = dir.Snapshot();

        var r = Ndctl("create-namespace", "--image", image, "-s", "2M", "-n", name);

        Assert.Multiple(() =>
        {
            Assert.That(r.Exit, Is.EqualTo(1), r.Out);
            Assert.That(r.Err, Does.StartWith($"ndctl create-namespace: invalid --name '{name}'"));
            Assert.That(dir.Snapshot(), Is.EqualTo(before));
        });
    }

    [Test]
    public void ADirectoryGivenAsTheImageIsReportedAsADirectory()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Directory.CreateDirectory(image);

        foreach (var args in new[]
        {
            new[] { "list", "--image", image },
            ["create-namespace", "--image", image],
            ["create-namespace", "--image", image, "-s", "2M"],
            ["destroy-namespace", "0.0", "-f", "--image", image],
            ["inject-error", "0.0", "-B", "1", "--image", image],
            ["clear-errors", "0.0", "--image", image],
        })
        {
            var r = Ndctl(args);
            Assert.Multiple(() =>
            {
                Assert.That(r.Exit, Is.EqualTo(1), string.Join(' ', args));
                Assert.That(r.Err, Does.StartWith($"ndctl {args[0]}: image '{image}' is a directory"), string.Join(' ', args));
                Assert.That(r.Err.TrimEnd(), Does.EndWith("Is a directory"), string.Join(' ', args));
            });
        }
    }

    [Test]
    public void CreatingAnImageInADirectoryThatDoesNotExistSaysSo()
    {
        using var dir = new ImageDirectory();
        var r = Ndctl("create-namespace", "--image", dir.PathOf("missing/pmem.img"), "-s", "4M");
        Assert.Multiple(() =>
        {
            Assert.That(r.Exit, Is.EqualTo(1));
            Assert.That(r.Err, Does.StartWith("ndctl create-namespace: cannot create image"));
            Assert.That(r.Err.TrimEnd(), Does.EndWith("No such file or directory"));
        });
    }

    [Test]
    public void ALabelFileWithNoRoomForAnotherLabelIsOutOfSpaceNotAnInternalError()
    {
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        long size = (LabelStorageArea.MaxLabels + 1) * 4096L;
        using (var fs = new FileStream(image, FileMode.CreateNew))
            fs.SetLength(size);
        var full = Enumerable.Range(0, LabelStorageArea.MaxLabels).Select(i => new NamespaceLabel
        {
            Uuid = Guid.NewGuid(), Index = i, Offset = i * 4096L, Size = 4096, Align = 4096, SectorSize = 512, Mode = NamespaceMode.Raw,
        }).ToList();
        new LabelStorageArea(new NamespaceIndex { LabelCount = full.Count, Sequence = 1, ImageSize = size, ImageName = "pmem.img" }, full)
            .Save(image + ".labels");
        var before = dir.Snapshot();

        var r = Ndctl("create-namespace", "--image", image, "-s", "4K", "-m", "raw");

        Assert.Multiple(() =>
        {
            Assert.That(r.Exit, Is.EqualTo(1), r.Out);
            Assert.That(r.Err, Does.StartWith("ndctl create-namespace: "));
            Assert.That(r.Err, Does.Contain($"{LabelStorageArea.MaxLabels} labels").And.Contain("No space left on device"));
            Assert.That(dir.Snapshot(), Is.EqualTo(before));
        });
    }

    [TestCase("create-namespace")]
    [TestCase("list")]
    [TestCase("destroy-namespace")]
    [TestCase("inject-error")]
    [TestCase("clear-errors")]
    public void UsageLineNamesTheListedArgumentsAsTheCommandRequiresThem(string sub)
    {
        var help = Ndctl(sub, "--help");
        var lines = help.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        string usage = lines[lines.IndexOf("Usage:") + 1].Trim();
        int section = lines.IndexOf("Arguments:");
        var listed = section < 0
            ? []
            : lines.Skip(section + 1).TakeWhile(l => l.Length > 0).Select(l => Regex.Match(l, @"^\s*(<[^>]+>)").Groups[1].Value).ToList();
        // In the usage line "<X>" is required and "[<X>]" optional.
        var inUsage = Regex.Matches(usage, @"(\[)?(<[^>]+>)").Select(m => (Name: m.Groups[2].Value, Optional: m.Groups[1].Success)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(help.Exit, Is.EqualTo(0));
            Assert.That(usage, Does.Contain($" ndctl {sub} "), "the root's name is the process's (testhost here)");
            Assert.That(inUsage.Select(a => a.Name), Is.EqualTo(listed), $"usage '{usage}' names the arguments listed, spelt alike");
            Assert.That(inUsage.Where(a => a.Optional).Select(a => a.Name), Is.Empty, $"usage '{usage}': no ndctl subcommand runs without its argument");
        });
        if (listed.Count == 0)
            return;
        using var dir = new ImageDirectory();
        string image = dir.PathOf("pmem.img");
        Assert.That(Ndctl("create-namespace", "--image", image, "-s", "8M", "-m", "fsdax").Exit, Is.EqualTo(0));
        // Everything else the command needs is given (destroy-namespace also needs --force).
        var r = sub == "destroy-namespace" ? Ndctl(sub, "--image", image, "--force") : Ndctl(sub, "--image", image);
        Assert.Multiple(() =>
        {
            Assert.That(r.Exit, Is.EqualTo(1), $"{sub} without {listed[0]}");
            Assert.That(r.Err, Does.StartWith($"ndctl {sub}: "));
        });
    }

    [Test]
    public void EveryNdctlOptionHasHelpText()
    {
        foreach (var sub in new[] { "create-namespace", "list", "destroy-namespace", "inject-error", "clear-errors" })
        {
            var stdout = new StringWriter();
            int exit = DaxstackProgram.Run(["ndctl", sub, "--help"], stdout, new StringWriter());
            var optionLines = stdout.ToString().Split('\n').Where(l => l.TrimStart().StartsWith('-')).ToList();
            Assert.Multiple(() =>
            {
                Assert.That(exit, Is.EqualTo(0));
                Assert.That(optionLines, Is.Not.Empty, sub);
                Assert.That(stdout.ToString(), Does.Contain("--image"), sub);
                foreach (var line in optionLines)
                    Assert.That(line.Trim(), Does.Match(@"^\S.*\s{2,}\S"), $"{sub}: option without help text: {line}");
            });
        }
    }
}
