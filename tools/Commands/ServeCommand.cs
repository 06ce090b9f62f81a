using System.CommandLine;
using System.Runtime.InteropServices;
using DaxStack.Device.Crash;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Platform;
using DaxStack.Driver.Block;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Nbd;
using DaxStack.Driver.Pmem;
using DaxStack.Tools.Cli;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack serve --image F [--nbd HOST:PORT] [--export NAME] [--namespace NS] [--read-only]</c>:
/// opens the image, attaches the pmem driver to one namespace (a label-less image is one raw
/// namespace; otherwise the first raw or fsdax namespace, or the one named) and serves the block
/// device over NBD until SIGINT (Ctrl-C) or SIGTERM. <c>--image</c> is required: there is no
/// in-memory mode, since a served device is meant to outlive the clients that write it.
/// SIGUSR1 simulates a power failure (Linux and macOS): every connection drops without a reply,
/// the writes not yet made durable by a FLUSH or FUA are lost as <c>--crash-policy</c> says
/// (strict by default), the image keeps the rest, and serve exits with status 0, so a restarted
/// serve shows real clients what their flushes kept. It does so during a stop too: a SIGTERM stop
/// still waiting for a request in progress (up to Nbd:StopTimeout) ends at once, flushing nothing.
/// <para>
/// Standard output gets exactly two lines: <c>daxstack serve: exporting 'NAME' (SIZE bytes) on
/// nbd://HOST:PORT/NAME</c> once listening (flushed at once, so scripts can read the port when
/// <c>--nbd HOST:0</c> asked for a free one), and <c>daxstack serve: stopped</c> after the device
/// was flushed at shutdown, or <c>daxstack serve: power failure (POLICY); N cache line(s) not yet
/// persistent at the failure</c> after SIGUSR1. Logs (one line per connection) go to standard
/// error. Failures print <c>serve: message</c> on standard error and exit with status 1.
/// </para>
/// </summary>
/// <remarks>Models <c>nbd-server</c> / <c>qemu-nbd</c> / <c>nbdkit file</c> serving a pmem block device.</remarks>
public static class ServeCommand
{
    private const string Command = "serve";

    public static Command Create(CliContext context)
    {
        var image = new Option<string?>("--image")
        {
            Description = "The image file to serve (label-less, or with namespaces made by 'daxstack ndctl create-namespace'). Required.",
            HelpName = "FILE",
        };
        var nbd = new Option<string?>("--nbd")
        {
            Description = "Address to listen on: an IPv4 address, [IPv6 address] or localhost, and a port; port 0 picks a free port. Default: Nbd:Listen (127.0.0.1:10809).",
            HelpName = "HOST:PORT",
        };
        var export = new Option<string?>("--export")
        {
            Description = "The export name clients ask for (an empty name also selects it). Default: the block device name, e.g. pmem0.",
            HelpName = "NAME",
        };
        var ns = new Option<string?>("--namespace", "-n")
        {
            Description = "The namespace to serve (namespaceR.N, R.N or its friendly name). Default: the first raw or fsdax namespace.",
            HelpName = "NAMESPACE",
        };
        var readOnly = new Option<bool>("--read-only", "-r")
        {
            Description = "Open the image read-only and export it read-only: writes, trims and write-zeroes fail with EPERM.",
        };
        var crashPolicy = new Option<string?>("--crash-policy")
        {
            Description = "What the power failure SIGUSR1 simulates leaves of writes not yet flushed: strict (all lost; the default), all (all kept) or random:SEED with SEED 0 to 2147483647 (each cache line keeps a prefix of its stores, reproducibly from the seed).",
            HelpName = "POLICY",
        };
        var cmd = new Command(Command,
            "Serve a namespace of an image over NBD (fixed newstyle; READ, WRITE, FLUSH, TRIM, WRITE_ZEROES, FUA) until Ctrl-C or SIGTERM. SIGUSR1 simulates a power failure: connections drop, writes not flushed are lost (--crash-policy), the image keeps the rest and serve exits.");
        foreach (var o in new Option[] { image, nbd, export, ns, readOnly, crashPolicy })
            cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string? path = parse.GetValue(image);
            if (string.IsNullOrEmpty(path))
                return context.Fail(Command, "--image FILE is required");
            string? listen = parse.GetValue(nbd);
            if (listen != null && !NbdServerOptions.TryParseEndpoint(listen, out _))
                return context.Fail(Command, $"invalid --nbd '{listen}': expected HOST:PORT (an IPv4 address, [IPv6 address] or localhost, and a port 0-65535)");
            var policy = CrashPolicy.Strict;
            string? policyText = parse.GetValue(crashPolicy);
            if (policyText != null)
            {
                try
                {
                    policy = CrashPolicy.Parse(policyText);
                }
                catch (FormatException e)
                {
                    return context.Fail(Command, $"invalid --crash-policy: {e.Message}");
                }
            }
            return Run(context, path, listen, parse.GetValue(export), parse.GetValue(ns), parse.GetValue(readOnly), policy);
        });
        return cmd;
    }

    private static int Run(CliContext context, string path, string? listen, string? exportName, string? namespaceName, bool readOnly, CrashPolicy crashPolicy)
    {
        using var bus = NdctlCommand.OpenBus(context);
        IDisposable? hold;
        PmemDevice device;
        NvdimmNamespace ns;
        BusRegion region;
        try
        {
            region = bus.OpenImage(path, readOnly: readOnly);
            if (namespaceName != null)
                ns = region.GetNamespace(NdctlCommand.NamespaceName(namespaceName));
            else
            {
                ns = region.Namespaces.FirstOrDefault(n => n.Mode is NamespaceMode.Raw or NamespaceMode.Fsdax)
                     ?? throw new NamespaceException(Device.Errors.Errno.ENXIO,
                         $"'{path}' has no raw or fsdax namespace to serve (devdax and sector namespaces have no pmem block device)");
            }
            device = context.Services.GetRequiredService<PmemDriver>().AttachPmem(region, ns);
            // Held while exported: another process's destroy-namespace or reconfigure of it is EBUSY.
            hold = region.Hold(ns);
        }
        catch (NamespaceException e)
        {
            return context.Fail(Command, e.Message);
        }
        catch (PmemProbeException e)
        {
            return context.Fail(Command, e.Message);
        }
        try
        {
            string name = exportName ?? device.Name;
            NbdExport export;
            try
            {
                export = new NbdExport(name, device, $"{ns.Name} ({ns.Mode.ToName()}) of {Path.GetFileName(path)}", readOnly);
            }
            catch (ArgumentException e)
            {
                // The message without .NET's " (Parameter 'name')" suffix: the option is named already.
                string reason = e.ParamName == null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
                return context.Fail(Command, $"invalid --export '{name}': {reason}");
            }
            return ServeAsync(context, export, listen, region.Region, crashPolicy).GetAwaiter().GetResult();
        }
        finally
        {
            // The image is written back and released before the hold goes: until then no other
            // process may write the namespace.
            bus.Dispose();
            hold.Dispose();
        }
    }

    private static async Task<int> ServeAsync(CliContext context, NbdExport export, string? listen, NvdimmRegion region, CrashPolicy crashPolicy)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            DisableDefaults = true,
        });
        // The command's own host already holds appsettings.json, DAXSTACK_ variables and --Section:Key=value.
        builder.Configuration.AddConfiguration(context.Services.GetRequiredService<IConfiguration>());
        if (listen != null)
            builder.Configuration.AddInMemoryCollection([new($"{NbdServerOptions.SectionName}:Listen", listen)]);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("DaxStack.Driver.Nbd", LogLevel.Information);
        // A failed start is reported once, as "serve: message", not again as the host's error log with a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        // Standard output carries only the two status lines scripts parse; every log line goes to standard error.
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        // The server bounds its own stop (Nbd:StopTimeout, up to its maximum): the host must not cut
        // it short at its own shutdown timeout (30 seconds by default).
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = NbdServerOptions.MaxStopTimeout + TimeSpan.FromMinutes(1));
        builder.Services.AddNbdExport(export);

        using var host = builder.Build();
        try
        {
            // Bound and checked before the start, so that a value that does not even convert
            // (--Nbd:MaxConnections=lots) is reported as a bad setting, not as an internal error.
            _ = host.Services.GetRequiredService<IOptions<NbdServerOptions>>().Value;
        }
        catch (InvalidOperationException e)
        {
            return context.Fail(Command, e.Message);
        }
        catch (OptionsValidationException e)
        {
            return context.Fail(Command, string.Join("; ", e.Failures));
        }
        try
        {
            await host.StartAsync();
        }
        catch (OptionsValidationException e)
        {
            return context.Fail(Command, string.Join("; ", e.Failures));
        }
        catch (IOException e)
        {
            return context.Fail(Command, e.Message);
        }
        var endpoint = host.Services.GetRequiredService<NbdServer>().LocalEndPoint!;
        context.Out.WriteLine($"daxstack serve: exporting '{export.Name}' ({export.Size} bytes) on nbd://{endpoint}/{Uri.EscapeDataString(export.Name)}");
        context.Out.Flush();

        // SIGUSR1: a simulated power failure. Registered once the status line is out, so that a
        // script that waits for it cannot signal a server that would not yet know the signal.
        var powerFail = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var powerFailSignal = PowerFailSignal is int signal
            ? PosixSignalRegistration.Create((PosixSignal)signal, c =>
            {
                c.Cancel = true;
                powerFail.TrySetResult();
            })
            : null;

        // The console lifetime turns SIGINT, SIGTERM and SIGQUIT into a host stop; the server then
        // finishes in-flight requests, closes connections and flushes the export.
        var shutdown = host.WaitForShutdownAsync();
        if (await Task.WhenAny(shutdown, powerFail.Task) == powerFail.Task)
            return await PowerFailAsync(context, host, region, crashPolicy);
        await shutdown;
        var status = export.Device.Flush();
        if (status != BlkStatus.Ok)
            return context.Fail(Command, $"flushing {export.Device.Name} failed: {status}");
        context.Out.WriteLine("daxstack serve: stopped");
        context.Out.Flush();
        return 0;
    }

    // SIGUSR1's number where .NET can register a raw signal (Linux and macOS); null elsewhere.
    private static int? PowerFailSignal =>
        OperatingSystem.IsLinux() ? 10 : OperatingSystem.IsMacOS() ? 30 : null;

    // The power failure: the server drops every connection without replies or a flush, so no
    // request touches the device again; the region then loses what the policy says of the lines
    // still in flight, and the image keeps exactly what survived (the bus writes nothing more back:
    // nothing is left in flight). The host's stop that follows finds the server stopped. When a
    // SIGTERM stop is under way, PowerFailAsync cuts it short the same way and returns it.
    private static async Task<int> PowerFailAsync(CliContext context, IHost host, NvdimmRegion region, CrashPolicy crashPolicy)
    {
        await host.Services.GetRequiredService<NbdServer>().PowerFailAsync();
        long inFlight = region.InFlightLineCount;
        region.Crash(crashPolicy);
        await host.StopAsync();
        context.Out.WriteLine($"daxstack serve: power failure ({crashPolicy}); {inFlight} cache line(s) not yet persistent at the failure");
        context.Out.Flush();
        return 0;
    }
}
