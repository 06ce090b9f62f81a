using System.CommandLine;
using System.Globalization;
using DaxStack.Device.Cost;
using DaxStack.Device.Errors;
using DaxStack.Tools.Bench;
using DaxStack.Tools.Cli;
using Microsoft.Extensions.DependencyInjection;

namespace DaxStack.Tools.Commands;

/// <summary><c>daxstack bench</c>: benchmark scenarios and reports.</summary>
public static class BenchCommand
{
    public static Command Create(CliContext context)
    {
        var cmd = new Command("bench", "Run benchmark scenarios (modeled and wall-clock).");
        cmd.Subcommands.Add(CreateCostModel(context));
        return cmd;
    }

    /// <summary><c>daxstack bench cost-model [--profile P] [--dimms N]</c>: the cost model against DESIGN.md section 9.</summary>
    private static Command CreateCostModel(CliContext context)
    {
        var profileOption = new Option<string?>("--profile", "-p")
        {
            Description = "Cost profile to check (optane-adr, optane-eadr, dram, or one from configuration). Default: Nvdimm:Profile.",
        };
        var dimmsOption = new Option<int?>("--dimms")
        {
            Description = $"Interleaved DIMMs for the bandwidth rows, 1 to {CostProfile.MaxDimms}. Default: the profile's own count and 6.",
            CustomParser = r =>
            {
                string text = string.Join(' ', r.Tokens.Select(t => t.Value));
                if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n))
                    return n;
                r.AddError($"invalid --dimms '{text}': expected a whole number of DIMMs");
                return null;
            },
        };
        var cmd = new Command("cost-model",
            "Run, in modeled time, the microbenchmarks behind the published Optane and DRAM figures (DESIGN.md section 9) " +
            "and compare; exits 1 if a row is off by more than 10%.");
        cmd.Options.Add(profileOption);
        cmd.Options.Add(dimmsOption);
        cmd.SetAction(pr =>
        {
            const string name = "bench cost-model";
            var catalog = context.Services.GetRequiredService<CostProfileCatalog>();
            CostProfile profile;
            try
            {
                profile = pr.GetValue(profileOption) is { } p ? catalog.Get(p) : catalog.Default;
            }
            catch (KeyNotFoundException e)
            {
                return context.Fail(name, e.Message);
            }
            int? dimms = pr.GetValue(dimmsOption);
            if (dimms is < 1 or > CostProfile.MaxDimms)
                return context.Fail(name, $"--dimms must be from 1 to {CostProfile.MaxDimms} (got {dimms})");
            IReadOnlyList<int> counts = dimms is { } n ? [n] : CostModelValidation.DefaultDimmCounts(profile);
            // Every DIMM count before any benchmark runs. The six-DIMM rows run by default: a profile
            // that cannot have six DIMMs (a large write-combining buffer) is told how to run its own count.
            foreach (int count in counts)
            {
                try
                {
                    (profile with { Dimms = count }).Validate();
                }
                catch (ArgumentException e)
                {
                    return context.Fail(name, dimms is null && count != profile.Dimms
                        ? $"{e.Message} (the {count}-DIMM rows run by default; --dimms {profile.Dimms} runs only the profile's own count)"
                        : e.Message);
                }
            }
            IReadOnlyList<CostModelValidation.Row> rows;
            try
            {
                rows = CostModelValidation.Run(profile, counts);
            }
            catch (ArgumentException e)
            {
                return context.Fail(name, e.Message);
            }
            catch (OutOfMemoryException)
            {
                // The benchmarks' in-memory devices grow with the profile's InterleaveBytes.
                return context.Fail(name, $"cannot allocate the in-memory devices the benchmarks of profile '{profile.Name}' need: {ErrnoText.StrError(Errno.ENOMEM)}");
            }
            CostModelValidation.Print(context.Out, profile, rows);
            return rows.All(r => r.Passes) ? 0 : context.Fail(name, "the cost model misses a published figure by more than 10%");
        });
        return cmd;
    }
}
