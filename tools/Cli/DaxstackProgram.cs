using System.CommandLine;
using DaxStack.Device.Hosting;
using DaxStack.Driver.Hosting;
using DaxStack.Tools.Commands;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DaxStack.Tools.Cli;

/// <summary>
/// The <c>daxstack</c> entry point: builds the generic host (configuration from appsettings.json,
/// DAXSTACK_-prefixed environment variables and <c>--Section:Key=value</c> arguments; one options
/// class per layer), then parses and runs the command.
/// </summary>
public static class DaxstackProgram
{
    /// <summary>Runs the command line with the process's console; returns the exit status.</summary>
    public static int Run(string[] args)
    {
        if (ArgumentNotUtf8() is { } bad)
        {
            Console.Error.WriteLine($"daxstack: argument '{bad}' is not valid UTF-8: .NET would read its bytes as U+FFFD, so a file it names could not be found or another file would be used; rename the file");
            return 1;
        }
        return Run(args, Console.Out, Console.Error);
    }

    // The first argument of this process (as /proc/self/cmdline holds it, before .NET decodes it)
    // that is not valid UTF-8, with its undecodable bytes shown as \xNN; null if none, or where
    // the raw arguments cannot be read.
    private static string? ArgumentNotUtf8()
    {
        byte[] raw;
        try
        {
            if (!OperatingSystem.IsLinux())
                return null;
            raw = File.ReadAllBytes("/proc/self/cmdline");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var strict = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true);
        foreach (var range in raw.AsSpan().Split((byte)0))
        {
            var arg = raw.AsSpan(range);
            try
            {
                strict.GetCharCount(arg);
            }
            catch (System.Text.DecoderFallbackException)
            {
                var shown = new System.Text.StringBuilder();
                foreach (byte b in arg)
                    shown.Append(b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}");
                return shown.ToString();
            }
        }
        return null;
    }

    /// <summary>Runs the command line writing to the given streams (tests use this).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var output = new CheckedWriter(stdout, "standard output");
        var error = new CheckedWriter(stderr, "standard error");
        try
        {
            return RunCommand(args, output, error);
        }
        catch (OutputWriteException e)
        {
            // As coreutils do: "write error", exit 1. If standard error failed, nothing can be said.
            if (e.StreamName != error.StreamName)
            {
                try
                {
                    error.WriteLine($"daxstack: {e.Message}");
                }
                catch (OutputWriteException)
                {
                }
            }
            return 1;
        }
    }

    // The binder's own message says only that binding failed; the setting at fault and why are in
    // the exceptions it wraps.
    private static string ConfigurationMessage(Exception e)
    {
        string message = e.Message;
        for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
        {
            if (!message.Contains(inner.Message, StringComparison.Ordinal))
                message += " " + inner.Message;
        }
        // The binder's words for a key no options class has, said plainly.
        var unknown = System.Text.RegularExpressions.Regex.Match(message,
            @"the following properties were not found on the instance of [\w.]*?(\w+?)(?:Server)?Options: (.+)$");
        if (unknown.Success)
        {
            string section = unknown.Groups[1].Value == "CustomProfile" ? "a custom cost profile (Base, Set)" : $"section {unknown.Groups[1].Value}";
            return $"unknown setting {unknown.Groups[2].Value.TrimEnd('.')}: not a key of {section}";
        }
        return message;
    }

    private static int RunCommand(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var (configArgs, commandArgs) = SplitConfigurationArguments(args);
        IHost host;
        try
        {
            host = BuildHost(configArgs);
        }
        catch (Exception e) when (e is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException
                                       or InvalidDataException or KeyNotFoundException or FormatException)
        {
            // Help and the version do not depend on the settings: asked for, they are shown whatever they are.
            if (HelpOrVersionWithoutHost(commandArgs, stdout, stderr) is { } status)
                return status;
            stderr.WriteLine($"daxstack: configuration: {ConfigurationMessage(e)}");
            return UsageErrorStatus(commandArgs.Length > 0 ? commandArgs[0] : "daxstack");
        }
        using (host)
        {
            var context = new CliContext(host.Services, stdout, stderr);
            var root = BuildRootCommand(context);
            var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
            var parsed = root.Parse(commandArgs);
            if (parsed.Errors.Count > 0)
            {
                // Parse errors in the tool's own form: "ndctl create-namespace: message".
                string path = CommandPath(parsed.CommandResult);
                foreach (var error in parsed.Errors)
                    stderr.WriteLine($"{path}: {ParseErrorMessage(error)}");
                stderr.WriteLine(path == "daxstack" ? "Try 'daxstack --help'." : $"Try 'daxstack {path} --help'.");
                return UsageErrorStatus(path);
            }
            try
            {
                return parsed.Invoke(config);
            }
            catch (Exception e) when (e is not OutputWriteException)
            {
                // A command let an exception escape: that is a bug in daxstack, reported as one line
                // (the stack trace only when DAXSTACK_DEBUG is set), never an unhandled crash.
                try
                {
                    stderr.WriteLine($"daxstack: internal error: {e.GetType().Name}: {e.Message}");
                    if (Environment.GetEnvironmentVariable("DAXSTACK_DEBUG") is { Length: > 0 })
                        stderr.WriteLine(e);
                }
                catch (OutputWriteException)
                {
                }
                return 70; // EX_SOFTWARE
            }
        }
    }

    /// <summary>
    /// Shows the help or the version <paramref name="commandArgs"/> ask for (--help, -h or -?, or
    /// --version, on a command line that otherwise parses) and returns its exit status, without
    /// the host, whose configuration may be invalid; null if the command line asks for neither.
    /// Building the command tree reads no service, so the tree built here has none.
    /// </summary>
    private static int? HelpOrVersionWithoutHost(string[] commandArgs, TextWriter stdout, TextWriter stderr)
    {
        using var services = new ServiceCollection().BuildServiceProvider();
        var root = BuildRootCommand(new CliContext(services, stdout, stderr));
        var parsed = root.Parse(commandArgs);
        // The version option's action is not a public type: it is known by the option it belongs to.
        bool version = root.Options.OfType<VersionOption>().Any(o => o.Action == parsed.Action);
        if (parsed.Errors.Count > 0 || !(parsed.Action is System.CommandLine.Help.HelpAction || version))
            return null;
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }

    /// <summary>The command tree.</summary>
    public static RootCommand BuildRootCommand(CliContext context)
    {
        var root = new RootCommand(
            "daxstack: a persistent-memory (NVDIMM / DAX) storage stack emulated in managed code.\n" +
            "Configuration: appsettings.json, DAXSTACK_Section__Key environment variables, --Section:Key=value.");
        root.Subcommands.Add(DemoCommand.Create(context));
        root.Subcommands.Add(NdctlCommand.Create(context));
        root.Subcommands.Add(BenchCommand.Create(context));
        root.Subcommands.Add(ServeCommand.Create(context));
        root.Subcommands.Add(MkfsCommand.Create(context));
        root.Subcommands.Add(DbCommand.Create(context));
        root.Subcommands.Add(RepairCommand.Create(context));
        root.Subcommands.Add(IoCommand.Create(context));
        return root;
    }

    private static IHost BuildHost(string[] configArgs)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            DisableDefaults = true,
        });
        builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true);
        builder.Configuration.AddEnvironmentVariables("DAXSTACK_");
        builder.Configuration.AddCommandLine(configArgs);
        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddNvdimm();
        builder.Services.AddPmemDriver();
        var host = builder.Build();
        // Validate options now (ValidateOnStart runs at StartAsync, which short commands never call).
        var nvdimm = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<NvdimmOptions>>().Value;
        // The profiles, as the host's start would check them: the message names the key at fault.
        if (DaxStack.Device.Cost.CostProfileCatalog.ConfigurationProblem(nvdimm) is { } problem)
        {
            host.Dispose();
            throw new Microsoft.Extensions.Options.OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(NvdimmOptions), [problem]);
        }
        _ = host.Services.GetRequiredService<DaxStack.Device.Cost.CostProfileCatalog>();
        _ = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PmemOptions>>().Value;
        // The Nbd section as serve binds it: a key it does not have is an error for every command.
        try
        {
            var nbd = builder.Configuration.GetSection(DaxStack.Driver.Nbd.NbdServerOptions.SectionName);
            ConfigurationShape.Check(nbd, typeof(DaxStack.Driver.Nbd.NbdServerOptions));
            _ = nbd.Get<DaxStack.Driver.Nbd.NbdServerOptions>(o => o.ErrorOnUnknownConfiguration = true);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return host;
    }

    /// <summary>
    /// The exit status of a command that could not run for its usage or the configuration: 1, but
    /// 2 for repair, whose statuses are xfs_repair's (1 says the filesystem has problems; 2 that
    /// it could not be checked at all).
    /// </summary>
    private static int UsageErrorStatus(string commandPath) =>
        commandPath == "repair" || commandPath.StartsWith("repair ", StringComparison.Ordinal) ? RepairCommand.CannotCheck : 1;

    // The parser's message, except for a required argument that was not given: the parser's own
    // words ("Required argument missing for command: 'mkfs'.") name the command, not the argument.
    private static string ParseErrorMessage(System.CommandLine.Parsing.ParseError error) =>
        error.SymbolResult is System.CommandLine.Parsing.ArgumentResult { Tokens.Count: 0 } missing
        && missing.Argument.Arity.MinimumNumberOfValues > 0
            ? $"missing argument {missing.Argument.Name}"
            : error.Message;

    private static string CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (var r = result; r != null && r.Parent != null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return names.Count == 0 ? "daxstack" : string.Join(' ', names);
    }

    /// <summary>Separates <c>--Section:Key=value</c> configuration overrides from the command's own arguments.</summary>
    internal static (string[] Config, string[] Command) SplitConfigurationArguments(string[] args)
    {
        var config = new List<string>();
        var command = new List<string>();
        foreach (var a in args)
        {
            int eq = a.IndexOf('=');
            int colon = a.IndexOf(':');
            if (a.StartsWith("--", StringComparison.Ordinal) && colon > 2 && eq > colon)
                config.Add(a);
            else
                command.Add(a);
        }
        return ([.. config], [.. command]);
    }
}
