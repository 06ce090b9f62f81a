using DaxStack.Fs.Tests.Cli;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Xfs.Log;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Log;

/// <summary>Real xfsprogs read the log we write: xfs_repair -n accepts it after a clean unmount, xfs_logprint parses our records.</summary>
[NonParallelizable]
public class XlogInteropTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-xlog-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    // mkfs, then transactions through the log (wrapping it into cycle 2 when asked), then
    // optionally an unmount record. Returns the image and what the reader saw.
    private string Image(bool wrap, bool unmount, out XlogRecovery recovered)
    {
        string image = FsTestDevice.SparseImage(_dir, "fs.img", 64L << 20);
        var (status, _, error) = CliRun.Run("mkfs", "-q", image);
        Assert.That(status, Is.Zero, error);
        using (var dev = FsTestDevice.Image(image))
        {
            var sb = XfsMkfs.ProbeExisting(dev.Device)!;
            var location = XlogLocation.FromGeometry(new XfsGeometry(sb), sb.Uuid);
            Assert.That(XlogWriter.Resume(dev.Device, location, XlogReader.Read(dev.Device, location), out var writer), Is.EqualTo(XlogStatus.Ok));
            var rng = new Random(7);
            ulong written = 0;
            uint tid = 1;
            while (written < (wrap ? location.Blocks * 512UL * 3 / 2 : 200_000))
            {
                var t = LogRig.Transaction(tid++, rng, 3, 3000);
                var s = writer!.Append(t, out ulong start);
                if (s == XlogStatus.LogFull)
                {
                    Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
                    writer.MoveTail(writer.HeadLsn);
                    s = writer.Append(t, out _);
                }
                Assert.That(s, Is.EqualTo(XlogStatus.Ok));
                written += (ulong)t.Regions.Sum(r => r.Bytes.Length);
            }
            Assert.That(writer!.Force(), Is.EqualTo(XlogStatus.Ok));
            if (unmount)
                Assert.That(writer.WriteUnmountRecord(), Is.EqualTo(XlogStatus.Ok));
            recovered = XlogReader.Read(dev.Device, location);
        }
        return image;
    }

    [TestCase(false)]
    [TestCase(true)]
    public void XfsRepairAcceptsTheLogAfterWritesAndAnUnmountRecord(bool wrap)
    {
        string image = Image(wrap, unmount: true, out var recovered);
        Assert.That(recovered.IsClean, Is.True);
        Assert.That(recovered.HeadCycle, Is.EqualTo(wrap ? 2u : 1u));
        var (status, output, error) = XfsProgs.RepairNoModify(image);
        Assert.That(status, Is.Zero, $"xfs_repair -n failed:\n{output}\n{error}");
        Assert.That(output + error, Does.Not.Contain("would").IgnoreCase.And.Not.Contain("bad ").IgnoreCase);
        Assert.That(output + error, Does.Contain("Phase 7 - verify link counts"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void XfsLogprintFindsTheCleanHeadAndParsesEveryRecordHeader(bool wrap)
    {
        string image = Image(wrap, unmount: true, out var recovered);
        uint head = recovered.HeadBlock, last = (uint)recovered.LastRecordBlock, cycle = recovered.HeadCycle;
        var (status, output, error) = XfsProgs.Run("xfs_logprint", "-t", image);
        Assert.That(status, Is.Zero, error);
        Assert.That(output, Does.Contain($"log tail: {head} head: {head} state: <CLEAN>"));

        (status, output, error) = XfsProgs.Run("xfs_logprint", "-d", image);
        Assert.That(status, Is.Zero, error);
        var headers = output.Split('\n').Where(l => l.Contains(" HEADER Cycle ")).ToList();
        Assert.Multiple(() =>
        {
            // "%6d HEADER Cycle %d tail %d:%06d len %6d ops %d": our unmount record, its own tail.
            Assert.That(headers, Has.Member($"{last,6} HEADER Cycle {cycle} tail {cycle}:{last:D6} len {512,6} ops 1"));
            Assert.That(headers, Has.Count.GreaterThan(wrap ? 100 : 5), "every record we wrote is listed");
            Assert.That(output + error, Does.Not.Contain("error").IgnoreCase.And.Not.Contain("bad").IgnoreCase);
        });
    }

    [Test]
    public void XfsRepairReportsADirtyLogWhenTheUnmountRecordIsMissing()
    {
        string image = Image(wrap: false, unmount: false, out var recovered);
        Assert.That(recovered.IsClean, Is.False);
        var (status, output, error) = XfsProgs.RepairNoModify(image);
        Assert.That(status, Is.Not.Zero, "a dirty log must make xfs_repair -n fail");
        Assert.That(output + error, Does.Contain("valuable metadata changes in a log"));
    }
}
