using System.CommandLine;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Pmem;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack mkfs [-f] [-N] [-q] [-b size=N] [-d agcount=N] [-m reflink=0|1,uuid=U] [-L label] IMAGE</c>:
/// makes an XFS v5 filesystem on the image's pmem block device with mkfs.xfs's option names,
/// defaults and geometry summary. Options whose values the format fixes (<c>-m crc=1</c>,
/// <c>finobt=1</c>, <c>rmapbt=0</c>, <c>-i sparse=0</c>, <c>size=512</c>) are accepted with those
/// values and refused with others. Errors print <c>mkfs: message</c> and exit 1.
/// </summary>
/// <remarks>Models mkfs.xfs (mkfs/xfs_mkfs.c): option parsing, <c>validate_overwrite</c>, and the <c>xfs_report_geom</c> summary.</remarks>
public static class MkfsCommand
{
    private const string Command = "mkfs";

    public static Command Create(CliContext context)
    {
        var force = new Option<bool>("-f") { Description = "Overwrite an existing filesystem." };
        var dryRun = new Option<bool>("-N") { Description = "Print the geometry that would be used and write nothing." };
        var quiet = new Option<bool>("-q") { Description = "Do not print the geometry summary." };
        var block = Multi("-b", "size=N", "Block size in bytes; must be 4096 (DAX needs block size = page size).");
        var data = Multi("-d", "agcount=N", "Data section: agcount = number of allocation groups (at least 2; default 4, fewer for devices under 64 MiB).");
        var meta = Multi("-m", "reflink=0|1,uuid=UUID", "Metadata: reflink (default 1), uuid; crc=1, finobt=1, rmapbt=0, bigtime=1, inobtcount=1 are fixed.");
        var inode = Multi("-i", "sparse=0,size=512", "Inodes: sparse=0 and size=512 are fixed.");
        var label = new Option<string?>("-L") { Description = "Filesystem label, at most 12 bytes.", HelpName = "label" };
        var ns = new Option<string?>("--namespace") { Description = "The namespace to format (namespaceR.N, R.N or its name). Default: the image's only raw or fsdax namespace.", HelpName = "NAMESPACE" };
        // Required, as mkfs.xfs requires its device: the parser reports it missing, and the usage line
        // shows <IMAGE>, not [<IMAGE>].
        var image = new Argument<string>("IMAGE") { Description = "The image file.", Arity = ArgumentArity.ExactlyOne };

        var cmd = new Command(Command, "Make an XFS v5 filesystem on an image (mkfs.xfs-like).");
        foreach (var o in new Option[] { force, dryRun, quiet, block, data, meta, inode, label, ns })
            cmd.Options.Add(o);
        cmd.Arguments.Add(image);
        cmd.SetAction(parse =>
        {
            string? path = parse.GetValue(image);
            if (string.IsNullOrEmpty(path))
                return context.Fail(Command, "No device name specified");
            XfsMkfsOptions options;
            try
            {
                options = ParseOptions(parse.GetValue(block) ?? [], parse.GetValue(data) ?? [], parse.GetValue(meta) ?? [],
                    parse.GetValue(inode) ?? [], parse.GetValue(label), parse.GetValue(force));
            }
            catch (FormatException e)
            {
                return context.Fail(Command, e.Message);
            }
            return Run(context, path, parse.GetValue(ns), options, parse.GetValue(dryRun), parse.GetValue(quiet));
        });
        return cmd;
    }

    private static Option<string[]> Multi(string name, string helpName, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Turns mkfs.xfs-style option values into <see cref="XfsMkfsOptions"/>; FormatException names the bad option.</summary>
    internal static XfsMkfsOptions ParseOptions(IEnumerable<string> block, IEnumerable<string> data, IEnumerable<string> meta,
        IEnumerable<string> inode, string? label, bool force)
    {
        var options = new XfsMkfsOptions { Force = force, Label = label };
        var b = new XfsSuboptions('b');
        foreach (var text in block)
            foreach (var (name, value) in b.Split(text))
            {
                if (name != "size")
                    throw b.Unknown(name, value);
                long size = b.Number(name, value, 512, 65536, units: true);
                if ((size & (size - 1)) != 0)
                    throw b.Invalid(name, value!, "Value must be a power of 2.");
                options = options with { BlockSize = (int)size };
            }
        var d = new XfsSuboptions('d');
        foreach (var text in data)
            foreach (var (name, value) in d.Split(text))
                options = name switch
                {
                    "agcount" => options with { AgCount = (uint)d.Number(name, value, 1, uint.MaxValue) },
                    "agsize" or "size" or "su" or "sw" or "sunit" or "swidth" or "noalign" or "file" or "name" or "sectsize"
                        or "rtinherit" or "projinherit" or "extszinherit" or "cowextsize" or "daxinherit" or "concurrency"
                        => throw new FormatException($"-d {name} is not supported by daxstack mkfs (it takes -d agcount=N)"),
                    _ => throw d.Unknown(name, value),
                };
        var m = new XfsSuboptions('m');
        foreach (var text in meta)
            foreach (var (name, value) in m.Split(text))
                switch (name)
                {
                    case "reflink":
                        options = options with { Reflink = m.Flag(name, value) };
                        break;
                    case "uuid":
                        string u = m.Required(name, value);
                        options = options with { Uuid = Guid.TryParse(u, out var g) ? g : throw m.Invalid(name, u, "Value is not a UUID.") };
                        break;
                    case "crc" or "finobt" or "bigtime" or "inobtcount":
                        if (!m.Flag(name, value))
                            throw new FormatException($"-m {name}=0 is not supported: daxstack mkfs makes v5 filesystems with {name}=1");
                        break;
                    case "rmapbt":
                        if (m.Flag(name, value))
                            throw new FormatException("-m rmapbt=1 is not supported: daxstack mkfs makes filesystems without the reverse-mapping B+tree");
                        break;
                    default:
                        throw m.Unknown(name, value);
                }
        var i = new XfsSuboptions('i');
        foreach (var text in inode)
            foreach (var (name, value) in i.Split(text))
                switch (name)
                {
                    case "sparse":
                        if (i.Flag(name, value))
                            throw new FormatException("-i sparse=1 is not supported: daxstack mkfs allocates whole 64-inode chunks (sparse=0)");
                        break;
                    case "size":
                        long size = i.Number(name, value, 256, 2048, units: true);
                        if (size != XfsFormat.InodeSize)
                            throw new FormatException($"-i size={value} is not supported: inodes are {XfsFormat.InodeSize} bytes");
                        break;
                    default:
                        throw i.Unknown(name, value);
                }
        return options;
    }

    private static int Run(CliContext context, string path, string? namespaceName, XfsMkfsOptions options, bool dryRun, bool quiet)
    {
        FsImageDevice image;
        try
        {
            image = FsImageDevice.Open(context, path, namespaceName, readOnly: dryRun);
        }
        catch (Exception e) when (e is NamespaceException or PmemProbeException)
        {
            return context.Fail(Command, e.Message);
        }
        using (image)
        {
            try
            {
                XfsMkfsLayout layout;
                if (dryRun)
                    layout = XfsMkfsLayout.Plan(image.Device.Limits.Capacity, options);
                else
                {
                    if (!options.Force && XfsMkfs.ProbeExisting(image.Device) != null)
                    {
                        context.Error.WriteLine($"{Command}: {path} appears to contain an existing filesystem (xfs).");
                        return context.Fail(Command, "Use the -f option to force overwrite.");
                    }
                    layout = XfsMkfs.Format(image.Device, options);
                }
                if (!quiet)
                    foreach (var line in XfsGeometryReport.Lines(layout.Superblock, path))
                        context.Out.WriteLine(line);
                return 0;
            }
            catch (XfsException e)
            {
                return context.Fail(Command, e.Message);
            }
        }
    }
}
