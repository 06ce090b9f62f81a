namespace DaxStack.Device.Crash;

/// <summary>
/// What <see cref="CrashStateSpace.Enumerate"/> should yield: the strategy and its bounds.
/// Immutable; call <see cref="Validate"/> (the space does) before use.
/// </summary>
public sealed record CrashEnumerationOptions
{
    /// <summary>The strategy. Default <see cref="CrashStrategy.Auto"/>.</summary>
    public CrashStrategy Strategy { get; init; } = CrashStrategy.Auto;

    /// <summary>Largest subset of lines <see cref="CrashStrategy.Subsets"/> persists (Chipmunk's k). Default 2.</summary>
    public int SubsetSize { get; init; } = CrashStateSpace.DefaultSubsetSize;

    /// <summary>Most changed lines for which <see cref="CrashStrategy.Auto"/> may choose the powerset. Default 10.</summary>
    public int PowersetLineLimit { get; init; } = CrashStateSpace.DefaultPowersetLineLimit;

    /// <summary>Most states yielded (and the size of a <see cref="CrashStrategy.Sample"/>). Default 10,000.</summary>
    public int MaxStates { get; init; } = CrashStateSpace.DefaultMaxStates;

    /// <summary>Seed of the random sample; the same seed and in-flight lines give the same states. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> if a bound is negative or <see cref="MaxStates"/> is not positive.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Strategy))
            throw new ArgumentOutOfRangeException(nameof(Strategy), Strategy, "unknown crash strategy");
        ArgumentOutOfRangeException.ThrowIfNegative(SubsetSize);
        ArgumentOutOfRangeException.ThrowIfNegative(PowersetLineLimit);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxStates);
    }
}
