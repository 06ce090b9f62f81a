using System.Collections.Concurrent;
using DaxStack.Device.Crash;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.DeviceDax;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Tests.DeviceDax;

/// <summary>device-dax faults and stores from several threads at once. Bounded in time.</summary>
public class DevDaxConcurrencyTests
{
    [Test]
    [CancelAfter(60_000)]
    public void FaultsFromSeveralThreadsInstallOneEntryPerPageAndTheirFencedStoresSurvive()
    {
        const long Size = 4L << 20, Page = 4096;
        using var bus = new NvdimmBus(TestDevice.Catalog());
        var region = bus.AddMemory(new NativeMedia(Size + (4L << 20)));
        var ns = region.ReconfigureNamespace(region.Namespaces[0].Name,
            new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = Size, Align = Page }, force: true);
        var dax = new PmemDriver().AttachDeviceDax(region, ns);
        const long Start = 1L << 30;
        Assert.That(dax.Mmap(Start, Size, 0, DevDaxMapFlags.Shared | DevDaxMapFlags.Write, out var mapping), Is.EqualTo((Device.Errors.Errno)0));
        const int Threads = 4, Pages = (int)(Size / Page);
        var errors = new ConcurrentQueue<string>();
        var threads = Enumerable.Range(0, Threads).Select(me => new Thread(() =>
        {
            try
            {
                var rng = new Random(me);
                var line = Enumerable.Repeat((byte)(me + 1), 64).ToArray();
                for (int i = 0; i < 4000; i++)
                {
                    // Every thread faults every page (in its own order); it stores only to its own lines.
                    long page = rng.Next(Pages);
                    long address = Start + page * Page + rng.Next((int)Page);
                    if (mapping!.Fault(address, PageEntrySize.Pte, write: true, out var entry) != DaxFaultStatus.NoPage)
                        errors.Enqueue($"thread {me}: fault at {address:x} failed");
                    else if (entry.Address != Start + page * Page || entry.PhysicalAddress != ns.PhysicalAddress + page * Page)
                        errors.Enqueue($"thread {me}: entry {entry} for page {page}");
                    if (!mapping.TryGetWindow(address, out var window))
                        errors.Enqueue($"thread {me}: no window after the fault at {address:x}");
                    else
                    {
                        window.Store(me * 64, line);
                        window.WriteBack(me * 64, 64);
                        window.Sfence();
                    }
                }
            }
            catch (Exception e)
            {
                errors.Enqueue(e.ToString());
            }
        }) { IsBackground = true }).ToList();
        foreach (var t in threads)
            t.Start();
        foreach (var t in threads)
            Assert.That(t.Join(TimeSpan.FromSeconds(60)), Is.True, "a thread is stuck (deadlock?)");
        Assert.That(errors, Is.Empty);

        var entries = mapping!.Entries;
        bus.Space.Crash(CrashPolicy.Strict);
        var wrong = new List<string>();
        foreach (var e in entries)
        {
            var p = new byte[Threads * 64];
            region.Region.ReadPersisted(e.PhysicalAddress - region.Region.BaseAddress, p);
            for (int me = 0; me < Threads; me++)
            {
                // A thread that faulted the page stored its line there and fenced it.
                var mine = p.AsSpan(me * 64, 64);
                if (!mine.SequenceEqual(new byte[64]) && mine.IndexOfAnyExcept((byte)(me + 1)) >= 0)
                    wrong.Add($"page at {e.Address:x}, thread {me}'s line");
            }
            if (p.All(b => b == 0))
                wrong.Add($"page at {e.Address:x} faulted but holds no fenced store");
        }
        Assert.Multiple(() =>
        {
            Assert.That(entries.Select(e => e.Address).Distinct().Count(), Is.EqualTo(entries.Count));
            Assert.That(entries, Has.Count.EqualTo(Pages), "every page was faulted by some thread");
            Assert.That(wrong, Is.Empty);
            Assert.That(region.Region.InFlightLineCount, Is.Zero);
        });
    }
}
