using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace DaxStack.Bench.Fs;

/// <summary>
/// What the filesystem suites share: a freshly formatted and mounted <see cref="FsBenchPlatform"/>
/// per case, and the modeled time of every iteration. Each suite fixes its invocations per
/// iteration with <c>[InvocationCount]</c> (its iteration cleanup undoes the iteration's
/// creations so the filesystem does not fill), and counts its syscall operations with
/// <see cref="Done"/>; the modeled nanoseconds the device charged during an iteration, divided by
/// the operations done in it, is the iteration's modeled time per operation.
/// </summary>
/// <remarks>
/// At the end of a case the mean of the per-iteration modeled times is printed as a
/// <c>// FS-MODELED</c> line and, when the environment variable <see cref="ModeledFileVariable"/>
/// names a file, appended to it for <see cref="FsBenchReport"/>. Models no kernel structure:
/// it is the harness of a syscall benchmark in the spirit of fio's <c>sync</c> engine.
/// </remarks>
[MemoryDiagnoser]
public abstract class FsBenchmarkBase
{
    /// <summary>The environment variable naming the file that collects the modeled times.</summary>
    public const string ModeledFileVariable = "DAXSTACK_FS_MODELED";

    /// <summary>The line prefix of a modeled-time record (in the log and in the collected file).</summary>
    public const string ModeledLinePrefix = "// FS-MODELED";

    private readonly List<double> _modeledPerOp = [];
    private string? _method;
    private long _ops;
    private double _iterationStartNs;

    /// <summary>The mounted filesystem.</summary>
    internal FsBenchPlatform Platform { get; private set; } = null!;

    /// <summary>The device size; 512 MiB unless a suite needs otherwise.</summary>
    protected virtual long DeviceBytes => 512L << 20;

    /// <summary>The parameters of the case as BenchmarkDotNet prints them ("" when none).</summary>
    protected virtual string Parameters => "";

    [GlobalSetup]
    public void Setup()
    {
        Platform = new FsBenchPlatform(DeviceBytes, agCount: 4);
        _modeledPerOp.Clear();
        _method = null;
        SetupFiles();
    }

    [IterationSetup]
    public void StartIteration()
    {
        _ops = 0;
        PrepareIteration();
        _iterationStartNs = Platform.ModeledNanoseconds;
    }

    [IterationCleanup]
    public void EndIteration()
    {
        double elapsed = Platform.ModeledNanoseconds - _iterationStartNs;
        // Overhead iterations call an empty method: no operations, nothing to record.
        if (_ops > 0)
            _modeledPerOp.Add(elapsed / _ops);
        UndoIteration();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        try
        {
            if (_method != null && _modeledPerOp.Count > 0)
                Record(_method);
        }
        finally
        {
            Platform.Dispose();
        }
    }

    /// <summary>Creates the files and directories the suite works on (not measured).</summary>
    protected abstract void SetupFiles();

    /// <summary>Prepares one iteration (not measured; nothing by default).</summary>
    protected virtual void PrepareIteration()
    {
    }

    /// <summary>Removes what the iteration created so the next one starts from the same state (not measured).</summary>
    protected abstract void UndoIteration();

    /// <summary>Counts <paramref name="ops"/> operations of <paramref name="method"/> (a benchmark method's name).</summary>
    protected void Done(string method, int ops = 1)
    {
        _method = method;
        _ops += ops;
    }

    // The in-process toolchain runs an emitted subclass of the suite: name the suite itself.
    private string SuiteName()
    {
        var type = GetType();
        while (type.BaseType != null && type.Assembly != typeof(FsBenchmarkBase).Assembly)
            type = type.BaseType;
        return type.Name;
    }

    private void Record(string method)
    {
        var sorted = _modeledPerOp.Order().ToArray();
        double mean = sorted.Average();
        double median = sorted[sorted.Length / 2];
        var inv = CultureInfo.InvariantCulture;
        string line = string.Join('\t',
            ModeledLinePrefix, SuiteName(), method, Parameters,
            mean.ToString("R", inv), median.ToString("R", inv), sorted.Length.ToString(inv));
        Console.WriteLine(line);
        string? file = Environment.GetEnvironmentVariable(ModeledFileVariable);
        if (!string.IsNullOrEmpty(file))
            File.AppendAllText(file, line + Environment.NewLine);
    }
}
