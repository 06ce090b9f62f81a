using BenchmarkDotNet.Running;
using DaxStack.Bench;
using DaxStack.Bench.Report;

// `report ...` prints the section 7 table from finished results; `write-from-cpu [PASSES]`
// measures the CPU time of the driver's write paths per GB; anything else goes to
// BenchmarkDotNet (`--filter '*Persist*'`, `--list flat`, job options, ...).
if (args.Length > 0 && args[0] == "report")
    return DeviceBenchReport.Run(args[1..], Console.Out, Console.Error);
if (args.Length > 0 && args[0] == "fs-report")
    return DaxStack.Bench.Fs.FsBenchReport.Run(args[1..], Console.Out, Console.Error);
if (args.Length > 0 && args[0] == "write-from-cpu")
    return DaxStack.Bench.Driver.WriteFromCpuReport.Run(args[1..], Console.Out, Console.Error);

BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args, BenchConfig.Create());
return 0;
