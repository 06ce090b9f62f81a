using System.CommandLine;
using System.Globalization;
using System.Text;
using DaxStack.Device.Cost;
using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;
using DaxStack.Driver.Pmem;
using DaxStack.Device.Crash;
using DaxStack.Device.Diagnostics;
using DaxStack.Device.Hosting;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;
using DaxStack.Device.Poison;
using DaxStack.Tools.Cli;
using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.Repair;
using DaxStack.Fs.Xfs.Super;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack demo</c>: the end-to-end tour on an in-memory device. Every value it prints is
/// computed by the emulator as the tour runs.
/// </summary>
public static class DemoCommand
{
    // The tour stores at 0x1000 and poisons the sector at 0x8000 of its device.
    private const long PoisonOffset = 0x8000;

    /// <summary>The smallest in-memory device (Nvdimm:InMemorySize) the tour runs on.</summary>
    public const long MinimumSize = PoisonOffset + 4096;

    public static Command Create(CliContext context)
    {
        var profileOption = new Option<string?>("--profile", "-p")
        {
            Description = "Cost profile of the tour's device and its cost table (optane-adr, optane-eadr, dram, or one from configuration; an eADR profile is the eADR step's, the other steps then run on optane-adr). Default: Nvdimm:Profile.",
        };
        var cmd = new Command("demo", "End-to-end tour on an in-memory device: a store lost at a crash, the same store kept after clwb+sfence, eADR, a poisoned read, modeled costs, the pmem block driver and DAX, and the XFS-like filesystem (crash recovery, reflink).");
        cmd.Options.Add(profileOption);
        cmd.SetAction(pr =>
        {
            var catalog = context.Services.GetRequiredService<CostProfileCatalog>();
            var options = context.Services.GetRequiredService<IOptions<NvdimmOptions>>().Value;
            CostProfile profile;
            try
            {
                profile = pr.GetValue(profileOption) is { } name ? catalog.Get(name) : catalog.Default;
            }
            catch (KeyNotFoundException e)
            {
                return context.Fail("demo", e.Message);
            }
            var driver = context.Services.GetRequiredService<PmemDriver>();
            // Steps 6 and 7 address 512-byte sectors and put a filesystem with 512-byte sectors on
            // the block device: a driver configured for 4096-byte blocks would make them fail.
            if (driver.Options.LogicalBlockSize is not (0 or 512))
                return context.Fail("demo", $"Pmem:LogicalBlockSize {driver.Options.LogicalBlockSize} does not suit the tour: its block device and filesystem steps use 512-byte sectors (set 0 or 512)");
            long size = options.InMemorySize;
            if (size < MinimumSize)
                return context.Fail("demo", $"Nvdimm:InMemorySize {size} is too small for the tour: it needs at least {MinimumSize} bytes");
            NativeMedia media;
            try
            {
                media = new NativeMedia(size);
            }
            catch (OutOfMemoryException)
            {
                return context.Fail("demo", $"cannot allocate the in-memory device of {ReadableNumber.Bytes(size)} (Nvdimm:InMemorySize): {ErrnoText.StrError(Errno.ENOMEM)}");
            }
            Run(context.Out, profile, media, context.Services.GetRequiredService<DeviceMetrics>(), driver, catalog);
            return 0;
        });
        return cmd;
    }

    /// <summary>Runs the tour on a fresh platform whose region is <paramref name="media"/> (at least <see cref="MinimumSize"/> bytes; the region takes it over).</summary>
    public static void Run(TextWriter o, CostProfile profile, IMedia media, DeviceMetrics? metrics = null,
        PmemDriver? driver = null, CostProfileCatalog? catalog = null)
    {
        long size = media.Length;
        var adrProfile = profile.Domain == Device.Persistence.PersistenceDomain.Adr ? profile : CostProfiles.OptaneAdr;
        o.WriteLine("DaxStack device tour: an emulated NVDIMM in native memory, no pmem hardware needed.");
        o.WriteLine();

        using var space = new PhysicalAddressSpace();
        metrics?.Attach(space);
        var region = new NvdimmRegion("region0", media, adrProfile);
        space.AddRegion(region);
        var cpu = space.CurrentCpu;
        long pa = region.BaseAddress + 0x1000;
        o.WriteLine($"region0: {Size(size)} at physical address 0x{region.BaseAddress:x}, profile {adrProfile.Name} ({adrProfile.Domain} persistence domain)");
        if (adrProfile != profile)
            o.WriteLine($"(profile {profile.Name} is eADR: the ADR device of the other steps uses {adrProfile.Name}; step 4 and the costs of step 8 use {profile.Name})");
        o.WriteLine();

        byte[] message = "persistent hello"u8.ToArray();
        var buffer = new byte[message.Length];

        Step(o, "1. A store is visible at once but lives only in the CPU cache:");
        cpu.Store(pa, message);
        cpu.Load(pa, buffer);
        o.WriteLine($"   store \"{Text(message)}\" at 0x{pa:x}; load reads \"{Text(buffer)}\"; lines in flight: {region.InFlightLineCount}");
        space.Crash(CrashPolicy.Strict);
        cpu.Load(pa, buffer);
        o.WriteLine($"   power failure (strict): load now reads {Show(buffer)}: the store was lost");
        o.WriteLine();

        Step(o, "2. The same store followed by clwb + sfence survives:");
        cpu.Store(pa, message);
        cpu.Clwb(pa);
        o.WriteLine($"   store, clwb: write-back started, not yet guaranteed (lines in flight: {region.InFlightLineCount})");
        cpu.Sfence();
        o.WriteLine($"   sfence: write-back complete (lines in flight: {region.InFlightLineCount})");
        space.Crash(CrashPolicy.Strict);
        cpu.Load(pa, buffer);
        o.WriteLine($"   power failure (strict): load reads \"{Text(buffer)}\"");
        o.WriteLine();

        Step(o, "3. Between the store and the fence, a crash may keep any prefix of a line's stores:");
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var zeros = new byte[16];
        for (int seed = 0; seed < 64; seed++)
        {
            cpu.Store(pa + 64, zeros);                 // x = y = 0, persisted
            cpu.Clflush(pa + 64);
            cpu.StoreUInt64(pa + 64, 1);
            cpu.StoreUInt64(pa + 72, 2);
            space.Crash(CrashPolicy.Random(seed));
            string key = $"({cpu.LoadUInt64(pa + 64)}, {cpu.LoadUInt64(pa + 72)})";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }
        o.WriteLine("   store x=1, then y=2 (same line, not flushed), then power failure under 64 random seeds:");
        foreach (var (k, n) in outcomes)
            o.WriteLine($"   (x, y) = {k}: {n} seeds");
        o.WriteLine(outcomes.ContainsKey("(0, 2)")
            ? "   (0, 2) appeared: the model broke program order (a bug)"
            : "   (0, 2) never appears: a line keeps a prefix of its stores, in program order");
        o.WriteLine();

        Step(o, "4. eADR: the caches are in the persistence domain, so no flush is needed:");
        using (var eadrSpace = new PhysicalAddressSpace())
        {
            var eadrProfile = profile.Domain == Device.Persistence.PersistenceDomain.Eadr ? profile : CostProfiles.OptaneEadr;
            var eadr = new NvdimmRegion("region0", new NativeMedia(1 << 20), eadrProfile);
            eadrSpace.AddRegion(eadr);
            var ecpu = eadrSpace.CurrentCpu;
            ecpu.Store(eadr.BaseAddress, message);
            eadrSpace.Crash(CrashPolicy.Strict);
            ecpu.Load(eadr.BaseAddress, buffer);
            o.WriteLine($"   profile {eadrProfile.Name}: store, no flush, power failure (strict): load reads \"{Text(buffer)}\"");
        }
        o.WriteLine();

        Step(o, "5. A media error: loads from a poisoned sector raise a machine check:");
        long poisonOffset = PoisonOffset;
        region.Poison.Add(poisonOffset, 512);
        o.WriteLine($"   inject-error: sector {poisonOffset / 512} (bytes 0x{poisonOffset:x}-0x{poisonOffset + 511:x} of region0)");
        try
        {
            cpu.Load(region.BaseAddress + poisonOffset + 40, buffer);
            o.WriteLine("   load succeeded (unexpected)");
        }
        catch (MachineCheckException e)
        {
            o.WriteLine($"   load: {e.Message}");
        }
        region.Poison.Clear(poisonOffset, 512);
        cpu.Load(region.BaseAddress + poisonOffset + 40, buffer);
        o.WriteLine($"   clear-errors, then load: {Show(buffer)}");
        o.WriteLine();

        BlockDriverStep(o, space, adrProfile, driver ?? new PmemDriver(), catalog ?? new CostProfileCatalog(new NvdimmOptions()));
        o.WriteLine();

        FilesystemStep(o, space, adrProfile, driver ?? new PmemDriver(), catalog ?? new CostProfileCatalog(new NvdimmOptions()));
        o.WriteLine();

        // The costs of the profile asked for, eADR or not: each row runs on a device of its own.
        Step(o, $"8. Modeled cost on {profile.Name} (virtual nanoseconds charged by the cost model):");
        CostTable(o, profile);
    }

    /// <summary>Step 6: the pmem block driver and DAX over a second in-memory namespace of the same address space.</summary>
    private static void BlockDriverStep(TextWriter o, PhysicalAddressSpace space, CostProfile profile, PmemDriver driver, CostProfileCatalog catalog)
    {
        using var bus = new NvdimmBus(space, catalog);
        var region = bus.AddMemory(new NativeMedia(16 << 20), catalog.All.Any(p => p.Name == profile.Name) ? profile.Name : CostProfiles.OptaneAdr.Name);
        var pmem = driver.AttachPmem(region, region.Namespaces[0]);
        Step(o, $"6. The pmem block driver ({pmem.Name}, {Size(pmem.Limits.Capacity)}, {pmem.Limits.LogicalBlockSize}-byte blocks): writes are non-temporal stores, durable after a flush or with FUA:");
        var block = new byte[4096];
        "persistent hello"u8.CopyTo(block);
        // FUA first: its fence also persists every earlier write of the same queue.
        pmem.Write(16 * 512, block, BioFlags.Fua);
        pmem.Write(8 * 512, block);
        space.Crash(CrashPolicy.Strict);
        var plain = new byte[4096];
        var fua = new byte[4096];
        pmem.Read(8 * 512, plain);
        pmem.Read(16 * 512, fua);
        o.WriteLine("   write sector 16 with FUA, then sector 8 without, power failure (strict):");
        o.WriteLine($"   sector 8 reads {Show(plain[..16])}: lost; sector 16 reads {Show(fua[..16])}: kept");
        pmem.Write(8 * 512, block);
        pmem.Flush();
        space.Crash(CrashPolicy.Strict);
        pmem.Read(8 * 512, plain);
        o.WriteLine($"   write sector 8 again, then a flush bio, power failure: sector 8 reads {Show(plain[..16])}");

        region.InjectError(pmem.Namespace, block: 24, count: 1);
        var status = pmem.Read(24 * 512, new byte[512]);
        o.WriteLine($"   inject-error at sector 24, read it: {ErrnoText.StrError(status.ToErrno())} ({status.ToErrno()})");
        status = pmem.Write(24 * 512, block.AsSpan(0, 512), BioFlags.Fua);
        var after = pmem.Read(24 * 512, new byte[512]);
        o.WriteLine($"   write over it ({(status == BlkStatus.Ok ? "ok" : status.ToErrno().ToString())}) clears the poison: read {(after == BlkStatus.Ok ? "ok" : after.ToErrno().ToString())}, bad blocks left: {region.BadBlocks(pmem.Namespace).Count}");

        var error = pmem.DirectAccess(0, 16, DaxAccessMode.Access, out var extent);
        if (error == 0)
        {
            var word = new byte[16];
            extent.Window.Load(16 * 512, word);
            o.WriteLine($"   dax direct_access(pgoff 0, 16 pages): {extent.Pages} pages at pfn 0x{extent.Pfn:x}; a load through the window at byte {16 * 512} reads {Show(word)}");
        }
        else
            o.WriteLine($"   dax direct_access(pgoff 0, 16 pages): {error}");
    }

    /// <summary>Step 7: the XFS-like filesystem on DAX, through the VFS: fsync, a power failure and log recovery, reflink.</summary>
    private static void FilesystemStep(TextWriter o, PhysicalAddressSpace space, CostProfile profile, PmemDriver driver, CostProfileCatalog catalog)
    {
        using var bus = new NvdimmBus(space, catalog);
        var region = bus.AddMemory(new NativeMedia(64 << 20), catalog.All.Any(p => p.Name == profile.Name) ? profile.Name : CostProfiles.OptaneAdr.Name);
        var pmem = driver.AttachPmem(region, region.Namespaces[0]);
        var layout = XfsMkfs.Format(pmem, new XfsMkfsOptions { AgCount = 2 });
        var geo = layout.Geometry;
        Step(o, $"7. The XFS-like filesystem on DAX ({Size(pmem.Limits.Capacity)}: mkfs made {geo.AgCount} AGs of {geo.AgBlocks} 4 KiB blocks and a {geo.LogBlocks}-block log), used through the VFS:");
        var type = new XfsFileSystemType(pmem);
        var vfs = new Vfs(type);
        var p = vfs.CreateProcess(Credentials.Root);
        byte[] notes = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("persistent notes ", 600)));
        int fd = p.Open("/notes", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1A4);
        p.Write(fd, notes);
        p.Fsync(fd);
        o.WriteLine($"   write /notes ({notes.Length} bytes) and fsync it: the data went straight to pmem (DAX), fsync forced the log");
        int draft = p.Open("/draft", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1A4);
        p.Write(draft, "not yet durable"u8);
        p.Mkdir("/dir", 0x1ED);
        o.WriteLine("   create /draft and mkdir /dir, no fsync: the transactions sit in the in-memory log (CIL)");
        space.Crash(CrashPolicy.Strict);
        o.WriteLine("   power failure (strict)");

        // The old mount's state died with the power; mount the device again.
        type = new XfsFileSystemType(pmem);
        vfs = new Vfs(type);
        p = vfs.CreateProcess(Credentials.Root);
        var mount = type.Super!.Mount;
        o.WriteLine($"   mount again: the log was not clean, {mount.ReplayedTransactions} committed transaction(s) replayed");
        var back = new byte[notes.Length];
        fd = p.Open("/notes", OpenFlags.O_RDWR, 0);
        int n = p.Read(fd, back);
        string draftState;
        try
        {
            p.Stat("/draft");
            draftState = "still there";
        }
        catch (ErrnoException e)
        {
            draftState = $"gone ({e.Errno})";
        }
        o.WriteLine($"   /notes: {n} bytes, {(back.AsSpan(0, n).SequenceEqual(notes) ? "intact" : "DAMAGED")}; /draft: {draftState}; ls /: {string.Join(" ", p.ReadDirectory("/").Select(e => e.Name).Where(x => x is not "." and not ".."))}");

        int copy = p.Open("/copy", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1A4);
        p.Ficlone(copy, fd);
        var shared = new Fiemap(0, long.MaxValue, 0, 8);
        p.Fiemap(copy, shared);
        o.WriteLine($"   reflink /notes to /copy: fiemap of /copy shows {shared.MappedExtents} extent(s), flags {string.Join(",", shared.Extents.Take(shared.MappedExtents).Select(e => e.Flags))}");
        p.Pwrite(copy, "P"u8, 0);
        var first = new byte[1];
        p.Pread(fd, first, 0);
        var after = new Fiemap(0, 4096, 0, 8);
        p.Fiemap(copy, after);
        o.WriteLine($"   write 1 byte to /copy: copy-on-write gave its first block a private copy (flags now {string.Join(",", after.Extents.Take(after.MappedExtents).Select(e => e.Flags))}); /notes still starts with '{(char)first[0]}'");
        p.Dispose();
        vfs.RootMount.Sb.Operations.PutSuper();
        var report = XfsChecker.Check(pmem);
        o.WriteLine($"   unmount, then our checker (repair -n): {(report.IsClean ? "clean" : $"{report.Errors.Count()} problem(s)")}");
    }

    private static void CostTable(TextWriter o, CostProfile profile)
    {
        var rows = new List<(string Op, double Ns, CpuStats Stats, long Media, long Requested)>();
        var data = new byte[4096];
        Random.Shared.NextBytes(data);

        // Each row runs on a fresh, idle device, so one row's queued write-backs do not slow the next.
        (string, double, CpuStats, long, long) Measure(string name, Action<Cpu, long> action)
        {
            using var space = new PhysicalAddressSpace();
            var region = new NvdimmRegion("region0", new NativeMedia(64L << 20), profile);
            space.AddRegion(region);
            var cpu = space.CreateCpu();
            action(cpu, region.BaseAddress);
            return (name, cpu.Clock.Nanoseconds, cpu.Stats, region.Cost.MediaBytesWritten, region.Cost.BytesRequested);
        }

        rows.Add(Measure("64 B store + clwb + sfence", (c, b) => { c.Store(b, data.AsSpan(0, 64)); c.Clwb(b); c.Sfence(); }));
        rows.Add(Measure("64 B ntstore + sfence", (c, b) => { c.NtStore(b + 4096, data.AsSpan(0, 64)); c.Sfence(); }));
        rows.Add(Measure("256 B store + clwb x4 + sfence", (c, b) => { c.Store(b + 8192, data.AsSpan(0, 256)); c.Flush(FlushKind.Clwb, b + 8192, 256); c.Sfence(); }));
        rows.Add(Measure("4 KiB store + clwb x64 + sfence", (c, b) => { c.Store(b + 16384, data); c.Flush(FlushKind.Clwb, b + 16384, 4096); c.Sfence(); }));
        rows.Add(Measure("4 KiB ntstore + sfence", (c, b) => { c.NtStore(b + 32768, data); c.Sfence(); }));
        rows.Add(Measure("64 B store + clflush", (c, b) => { c.Store(b + 65536, data.AsSpan(0, 64)); c.Clflush(b + 65536); }));
        rows.Add(Measure("sfence, nothing outstanding", (c, b) => c.Sfence()));
        rows.Add(Measure("64 B load (cold, random)", (c, b) => c.Load(b + (40L << 20), data.AsSpan(0, 64))));
        rows.Add(Measure("4 KiB load (one access, cold)", (c, b) => c.Load(b + (48L << 20), data)));
        rows.Add(Measure("64 B load, twice (2nd hits cache)", (c, b) => { c.Load(b + (56L << 20), data.AsSpan(0, 64)); c.Load(b + (56L << 20), data.AsSpan(0, 64)); }));

        o.WriteLine($"   {"operation",-34} {"modeled ns",11} {"instructions",-34} {"media B written / requested",27}");
        foreach (var (op, ns, s, media, requested) in rows)
        {
            var ins = new StringBuilder();
            void Add(string n, long v) { if (v > 0) ins.Append(ins.Length > 0 ? " " : "").Append(CultureInfo.InvariantCulture, $"{n}={v}"); }
            Add("ld", s.Loads); Add("hit", s.CacheHitLines); Add("st", s.Stores); Add("nt", s.NtStores); Add("clwb", s.Clwb);
            Add("clflush", s.Clflush); Add("sfence", s.Sfence);
            string amp = requested > 0 ? $"{media} / {requested} ({(double)media / requested:0.0}x)" : "-";
            // 999999999.9 ns fits the column; longer times (the slowest settings reach tens of seconds) print as 6.5e+10.
            string modeled = ReadableNumber.Decimal(ns, "0.0", 1e9);
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   {op,-34} {modeled,11} {ins,-34} {amp,27}"));
        }
        o.WriteLine($"   {CostTableSource(profile)}");
    }

    /// <summary>
    /// The cost table's closing line: which profile's numbers the figures are modeled from. Only a
    /// built-in profile as shipped has published numbers behind it (Optane or DRAM, DESIGN.md
    /// section 9); a configured profile, or a built-in one redefined by configuration, has its own.
    /// </summary>
    private static string CostTableSource(CostProfile profile)
    {
        string numbers = CostProfiles.BuiltIn.Contains(profile)
            ? $"{(profile.Technology.Equals("dram", StringComparison.OrdinalIgnoreCase) ? "DRAM" : "Optane")}-class numbers, DESIGN.md section 9"
            : "configured numbers, not a published device's";
        return $"Figures are modeled on profile {profile.Name} ({numbers}), not measured wall-clock time.";
    }

    private static void Step(TextWriter o, string title) => o.WriteLine(title);

    private static string Text(byte[] b) => Encoding.ASCII.GetString(b);

    private static string Show(byte[] b) => b.All(x => x == 0) ? $"{b.Length} zero bytes" : $"\"{Text(b)}\"";

    private static string Size(long bytes) =>
        bytes >= ReadableNumber.BytesInUnitsFrom ? ReadableNumber.Bytes(bytes) : bytes >= 1L << 30 ? $"{bytes >> 30} GiB" : $"{bytes >> 20} MiB";
}
