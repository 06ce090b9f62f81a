using DaxStack.Device.Persistence;

namespace DaxStack.Device.Crash;

/// <summary>
/// What a power failure leaves of the lines that were not yet persistent. Each in-flight line
/// ends with its persisted content plus some prefix of its stores, split into 8-byte atomic
/// pieces; the policy picks the prefix.
/// </summary>
public abstract class CrashPolicy
{
    private protected CrashPolicy() { }

    /// <summary>Every line not fenced is lost: the harshest common case.</summary>
    public static CrashPolicy Strict { get; } = new StrictPolicy();

    /// <summary>Eviction persisted everything that was stored.</summary>
    public static CrashPolicy AllPersisted { get; } = new AllPolicy();

    /// <summary>
    /// Each in-flight line independently keeps a prefix of its stores, chosen by a generator seeded
    /// with <paramref name="seed"/>, 0 to <see cref="int.MaxValue"/>. A negative seed is refused:
    /// <see cref="System.Random.Random(int)"/> takes its absolute value, so it would only be a second name
    /// for a non-negative seed (-1 for 1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seed"/> is negative.</exception>
    public static CrashPolicy Random(int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        return new RandomPolicy(seed);
    }

    /// <summary>Exactly the state <paramref name="state"/> (from a <c>CrashStateSpace</c>); lines it does not name keep their persisted content.</summary>
    public static CrashPolicy Exactly(CrashState state)
    {
        // Checked now: found at the power failure, a null would stop it part way through.
        ArgumentNullException.ThrowIfNull(state);
        return new ExactPolicy(state);
    }

    /// <summary>Parses "strict", "all" or "random:SEED" with SEED 0 to <see cref="int.MaxValue"/> (the CLI's -p values).</summary>
    /// <exception cref="FormatException">Not one of those, or SEED is an integer outside its range; the message names the text.</exception>
    public static CrashPolicy Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.Equals(text, "strict", StringComparison.OrdinalIgnoreCase))
            return Strict;
        if (string.Equals(text, "all", StringComparison.OrdinalIgnoreCase))
            return AllPersisted;
        if (text.StartsWith("random:", StringComparison.OrdinalIgnoreCase)
            && long.TryParse(text.AsSpan(7), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long seed))
        {
            if (seed is < 0 or > int.MaxValue)
                throw new FormatException($"crash policy '{text}': SEED must be 0 to {int.MaxValue}");
            return Random((int)seed);
        }
        throw new FormatException($"unknown crash policy '{text}': expected strict, all or random:SEED");
    }

    /// <summary>Starts a crash; the returned chooser is asked for each in-flight line in address order.</summary>
    internal abstract Func<InFlightLine, int> Begin();

    private sealed class StrictPolicy : CrashPolicy
    {
        internal override Func<InFlightLine, int> Begin() => static _ => 0;
        public override string ToString() => "strict";
    }

    private sealed class AllPolicy : CrashPolicy
    {
        internal override Func<InFlightLine, int> Begin() => static l => l.PieceCount;
        public override string ToString() => "all";
    }

    private sealed class RandomPolicy(int seed) : CrashPolicy
    {
        internal override Func<InFlightLine, int> Begin()
        {
            var rng = new System.Random(seed);
            return l => rng.Next(0, l.PieceCount + 1);
        }
        public override string ToString() => $"random:{seed}";
    }

    private sealed class ExactPolicy(CrashState state) : CrashPolicy
    {
        internal override Func<InFlightLine, int> Begin() => l => state.PiecesFor(l.PhysicalAddress);
        public override string ToString() => $"exact({state})";
    }
}
