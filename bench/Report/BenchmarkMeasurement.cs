namespace DaxStack.Bench.Report;

/// <summary>
/// One finished BenchmarkDotNet case, as read back from its full JSON report: the suite (the
/// benchmark class), the method, the bytes each operation copies, wall-clock statistics per
/// operation and managed bytes allocated per operation (null when the memory diagnoser was off).
/// </summary>
public sealed record BenchmarkMeasurement(
    string Suite,
    string Method,
    int Size,
    double MeanNs,
    double MedianNs,
    double StandardDeviationNs,
    long? AllocatedBytesPerOperation);
