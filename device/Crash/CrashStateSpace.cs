using System.Numerics;
using DaxStack.Device.Persistence;

namespace DaxStack.Device.Crash;

/// <summary>
/// The crash states a power failure could leave at one point of a run, built from the lines
/// then in flight (<see cref="Platform.PhysicalAddressSpace.InFlightLines"/>), with the
/// enumeration strategies of the crash-consistency testers (<see cref="CrashStrategy"/>).
/// </summary>
/// <remarks>
/// Identical images are counted once: per line, store prefixes that leave the same bytes are one
/// choice, and a line whose full content equals its persisted content adds no subsets. Lines
/// are at distinct addresses, so distinct per-line choices give distinct images, and the counts
/// are exact (<see cref="BigInteger"/>: they grow as products and powers of two) without
/// enumerating. Enumerations are lazy, bounded by a maximum number of states, and deterministic;
/// the sample depends only on its seed and the lines. A state is applied with
/// <see cref="CrashPolicy.Exactly"/>, or read line by line with <see cref="LinesOf"/> to build
/// an image without crashing the platform. The space is a snapshot: it does not follow the
/// platform after construction, and is immutable: enumerations may run concurrently.
/// </remarks>
public sealed class CrashStateSpace
{
    /// <summary>Chipmunk's default largest subset of lines.</summary>
    public const int DefaultSubsetSize = 2;

    /// <summary>Most changed lines for which <see cref="CrashStrategy.Auto"/> chooses the powerset by default.</summary>
    public const int DefaultPowersetLineLimit = 10;

    /// <summary>Most states an enumeration yields unless told otherwise.</summary>
    public const int DefaultMaxStates = 10_000;

    private readonly LineChoices[] _lines;               // in address order
    private readonly long[] _addresses;                  // _lines' addresses, for binary search
    private readonly LineChoices[] _changed;             // full content differs from persisted
    private readonly LineChoices[] _varying;             // more than one distinct content
    private readonly Lazy<BigInteger> _prefixCount;      // product of the varying lines' counts

    /// <summary>Builds the space of the given in-flight lines (any order; addresses must be distinct).</summary>
    public CrashStateSpace(IEnumerable<InFlightLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        // Time and memory in proportion to the lines: per line a few words (not its contents,
        // which LinesOf rebuilds), no sort when the lines come in address order as the
        // platform lists them, and the prefix count only when asked for.
        InFlightLine[] sorted = [.. lines];
        _addresses = new long[sorted.Length];
        bool inOrder = true;
        for (int i = 0; i < sorted.Length; i++)
        {
            _addresses[i] = sorted[i].PhysicalAddress;
            inOrder &= i == 0 || _addresses[i - 1] < _addresses[i];
        }
        if (!inOrder)
            Array.Sort(_addresses, sorted);
        for (int i = 1; i < _addresses.Length; i++)
            if (_addresses[i - 1] == _addresses[i])
                throw new ArgumentException($"line 0x{_addresses[i]:x} is listed twice", nameof(lines));

        _lines = new LineChoices[sorted.Length];
        int changed = 0, varying = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            var l = LineChoices.Of(sorted[i]);
            _lines[i] = l;
            changed += l.Changes ? 1 : 0;
            varying += l.Count > 1 ? 1 : 0;
        }
        _changed = new LineChoices[changed];
        _varying = new LineChoices[varying];
        changed = varying = 0;
        foreach (var l in _lines)
        {
            if (l.Changes)
                _changed[changed++] = l;
            if (l.Count > 1)
                _varying[varying++] = l;
        }
        _prefixCount = new Lazy<BigInteger>(() => ProductOfCounts(_varying));
        Lines = Array.AsReadOnly(sorted);
    }

    /// <summary>The in-flight lines, in address order.</summary>
    public IReadOnlyList<InFlightLine> Lines { get; }

    /// <summary>Lines whose full current content differs from their persisted content (the lines subsets are drawn from).</summary>
    public int ChangedLineCount => _changed.Length;

    /// <summary>Number of distinct contents the line at <paramref name="lineAddress"/> can hold after a crash (1 = only its persisted content).</summary>
    public int DistinctContentCount(long lineAddress) =>
        IndexOf(lineAddress) is int i and >= 0
            ? _lines[i].Count
            : throw new ArgumentException($"line 0x{lineAddress:x} is not in flight", nameof(lineAddress));

    private int IndexOf(long lineAddress) => Array.BinarySearch(_addresses, lineAddress);

    // ------------------------------------------------------------------ counts

    /// <summary>Exact number of states <see cref="CrashStrategy.Subsets"/> has: subsets of at most <paramref name="maxSize"/> changed lines, the empty one included.</summary>
    public BigInteger CountSubsets(int maxSize = DefaultSubsetSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        int n = _changed.Length;
        if (maxSize >= n)
            return BigInteger.One << n;
        // Fewer and shorter terms cost less: sum the shorter side of the binomials, the subsets
        // of more than maxSize lines being as many as those of fewer than n - maxSize.
        return maxSize <= n / 2
            ? ExactCounts.SumOfBinomials(n, maxSize)
            : (BigInteger.One << n) - ExactCounts.SumOfBinomials(n, n - maxSize - 1);
    }

    /// <summary>Exact number of states <see cref="CrashStrategy.Powerset"/> has: 2 to the number of changed lines.</summary>
    public BigInteger CountPowerset() => BigInteger.One << _changed.Length;

    /// <summary>Exact number of distinct images the hardware could leave: the product of each line's distinct contents.</summary>
    public BigInteger CountPrefixes() => _prefixCount.Value;

    // The product of the lines' counts: the counts multiplied in 64-bit words as long as they
    // fit, then the words by halves (ExactCounts.Product): a product grown one line at a time
    // costs time quadratic in the lines (over a minute for the 1.6 million bits of 500,000 lines).
    private static BigInteger ProductOfCounts(LineChoices[] lines)
    {
        var words = new List<ulong>();
        ulong word = 1;
        foreach (var l in lines)
        {
            ulong count = (ulong)l.Count;
            if (word > ulong.MaxValue / count)
            {
                words.Add(word);
                word = 1;
            }
            word *= count;
        }
        words.Add(word);
        return ExactCounts.Product(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(words));
    }

    /// <summary>The concrete strategy <paramref name="options"/> selects (resolves <see cref="CrashStrategy.Auto"/>).</summary>
    public CrashStrategy Resolve(CrashEnumerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Strategy != CrashStrategy.Auto)
            return options.Strategy;
        // Exhaustive when it fits: every prefix image includes every powerset and subset image.
        if (PrefixesAtMost(options.MaxStates))
            return CrashStrategy.Prefixes;
        if (_changed.Length <= options.PowersetLineLimit && CountPowerset() <= options.MaxStates)
            return CrashStrategy.Powerset;
        return CrashStrategy.Sample;
    }

    /// <summary>Exact number of states <see cref="Enumerate"/> yields for <paramref name="options"/>.</summary>
    public BigInteger Count(CrashEnumerationOptions options)
    {
        // Only as much as the bound needs: the full counts of a large space are numbers of
        // hundreds of thousands of bits, of which the answer needs none.
        int max = options.MaxStates;
        return Resolve(options) switch
        {
            CrashStrategy.Subsets => SubsetCountAtMost(options.SubsetSize, max),
            CrashStrategy.Powerset => _changed.Length < 31 ? Math.Min(1 << _changed.Length, max) : max,
            _ => PrefixesAtMost(max) ? CountPrefixes() : max,
        };
    }

    // Whether the prefix images number at most bound, from the counts' product up to the point
    // it passes the bound (at most 31 lines, each of at least 2 images).
    private bool PrefixesAtMost(int bound)
    {
        if (_prefixCount.IsValueCreated)
            return _prefixCount.Value <= bound;
        ulong product = 1;
        foreach (var l in _varying)
        {
            product *= (ulong)l.Count; // both factors below 2^31
            if (product > (ulong)bound)
                return false;
        }
        return true;
    }

    // min(CountSubsets(maxSize), bound), summing binomials until they pass the bound: for
    // sizes up to n / 2 they only grow, so past a few terms unless n is below about 32.
    private long SubsetCountAtMost(int maxSize, int bound)
    {
        int n = _changed.Length;
        long total = 0, binomial = 1;
        for (int size = 0; size <= Math.Min(maxSize, n); size++)
        {
            total += binomial;
            if (total > bound)
                return bound;
            binomial = binomial * (n - size) / (size + 1); // below 2^62: binomial <= bound < 2^31
        }
        return total;
    }

    // ------------------------------------------------------------------ enumerations

    /// <summary>The states <paramref name="options"/> selects, lazily.</summary>
    public IEnumerable<CrashState> Enumerate(CrashEnumerationOptions options) => Resolve(options) switch
    {
        CrashStrategy.Subsets => Subsets(options.SubsetSize, options.MaxStates),
        CrashStrategy.Prefixes => Prefixes(options.MaxStates),
        CrashStrategy.Powerset => Powerset(options.MaxStates),
        _ => Sample(options.MaxStates, options.Seed),
    };

    /// <summary>
    /// Chipmunk's states: the persisted state, then every changed line alone with its full
    /// content, then every pair, and so on up to <paramref name="maxSize"/> lines (by size, then
    /// by address); at most <paramref name="maxStates"/> of them.
    /// </summary>
    public IEnumerable<CrashState> Subsets(int maxSize = DefaultSubsetSize, int maxStates = DefaultMaxStates)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStates);
        return SubsetsUpTo(Math.Min(maxSize, _changed.Length), maxStates);
    }

    /// <summary>Every subset of the changed lines with their full content, smallest subsets first; at most <paramref name="maxStates"/>.</summary>
    public IEnumerable<CrashState> Powerset(int maxStates = DefaultMaxStates)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStates);
        return SubsetsUpTo(_changed.Length, maxStates);
    }

    /// <summary>
    /// Vinter's states: every combination of per-line distinct prefixes, in lexicographic order of
    /// the per-line choices (the line at the highest address varies fastest, the all-persisted
    /// state first); at most <paramref name="maxStates"/>.
    /// </summary>
    public IEnumerable<CrashState> Prefixes(int maxStates = DefaultMaxStates)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStates);
        return PrefixesUpTo(maxStates);
    }

    /// <summary>
    /// <paramref name="size"/> distinct states drawn uniformly from the states of
    /// <see cref="Prefixes"/> by a generator seeded with <paramref name="seed"/>; if there are
    /// no more than <paramref name="size"/> states, all of them in <see cref="Prefixes"/> order.
    /// </summary>
    public IEnumerable<CrashState> Sample(int size, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return SampleOf(size, seed);
    }

    /// <summary>
    /// The content of every in-flight line in <paramref name="state"/>, in address order: what an
    /// explorer writes over the CPU view of the media to build the crash image. Each array is a copy.
    /// </summary>
    public IEnumerable<(long Address, byte[] Content)> LinesOf(CrashState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (address, pieces) in state.Pieces)
        {
            int i = IndexOf(address);
            if (i < 0)
                throw new ArgumentException($"the state names line 0x{address:x}, which is not in flight in this space", nameof(state));
            var line = _lines[i].Line;
            if (pieces < 0 || pieces > line.PieceCount)
                throw new ArgumentException($"the state keeps {pieces} pieces of line 0x{address:x}, which has {line.PieceCount}", nameof(state));
        }
        return ContentsIn(state);
    }

    private IEnumerable<(long Address, byte[] Content)> ContentsIn(CrashState state)
    {
        // The pieces were checked against each line by LinesOf.
        foreach (var line in _lines)
            yield return (line.Address, line.Line.ContentAfterPieces(state.PiecesFor(line.Address)));
    }

    private IEnumerable<CrashState> SubsetsUpTo(int maxSize, int maxStates)
    {
        int n = _changed.Length, yielded = 0;
        var pick = new int[maxSize];
        for (int size = 0; size <= maxSize; size++)
        {
            for (int i = 0; i < size; i++)
                pick[i] = i;
            while (true)
            {
                if (yielded++ == maxStates)
                    yield break;
                var pieces = new Dictionary<long, int>(size);
                for (int i = 0; i < size; i++)
                {
                    var line = _changed[pick[i]];
                    pieces.Add(line.Address, line.PiecesOf(line.Full));
                }
                yield return new CrashState(pieces);

                // Next combination of `size` out of `n` in lexicographic order.
                int j = size - 1;
                while (j >= 0 && pick[j] == n - size + j)
                    j--;
                if (j < 0)
                    break;
                pick[j]++;
                for (int t = j + 1; t < size; t++)
                    pick[t] = pick[t - 1] + 1;
            }
        }
    }

    private IEnumerable<CrashState> PrefixesUpTo(int maxStates)
    {
        var choice = new int[_varying.Length];
        for (int yielded = 0; yielded < maxStates; yielded++)
        {
            yield return StateOf(choice);

            // Mixed-radix increment, last digit fastest.
            int j = choice.Length - 1;
            while (j >= 0 && ++choice[j] == _varying[j].Count)
                choice[j--] = 0;
            if (j < 0)
                yield break;
        }
    }

    private IEnumerable<CrashState> SampleOf(int size, int seed)
    {
        if (PrefixesAtMost(size))
        {
            foreach (var state in PrefixesUpTo(size))
                yield return state;
            yield break;
        }
        // Fewer states wanted than exist: draw each line's choice uniformly, and reject repeats
        // by the state's mixed-radix rank (a state is uniquely its rank), kept as 64-bit limbs:
        // one per run of lines whose counts multiply to at most 2^64, so a draw costs time in
        // proportion to the lines, not to their square as a BigInteger grown line by line does.
        var limbStarts = LimbStarts();
        var rng = new Random(seed);
        var seen = new HashSet<ulong[]>(LimbsComparer.Instance);
        var choice = new int[_varying.Length];
        while (seen.Count < size)
        {
            var rank = new ulong[limbStarts.Length];
            for (int limb = 0; limb < rank.Length; limb++)
            {
                int end = limb + 1 < limbStarts.Length ? limbStarts[limb + 1] : choice.Length;
                ulong digits = 0;
                for (int j = limbStarts[limb]; j < end; j++)
                {
                    int radix = _varying[j].Count;
                    choice[j] = rng.Next(radix);
                    digits = digits * (ulong)radix + (ulong)choice[j];
                }
                rank[limb] = digits;
            }
            if (seen.Add(rank))
                yield return StateOf(choice);
        }
    }

    // Where each 64-bit limb of a rank starts in _varying: a new one where the product of the
    // counts since the last start would pass 2^64, so each limb's rank fits its ulong.
    private int[] LimbStarts()
    {
        var starts = new List<int>();
        ulong product = 0;  // 0: no limb started yet
        for (int j = 0; j < _varying.Length; j++)
        {
            ulong radix = (ulong)_varying[j].Count;
            if (product == 0 || product > ulong.MaxValue / radix)
            {
                starts.Add(j);
                product = radix;
            }
            else
                product *= radix;
        }
        return [.. starts];
    }

    private sealed class LimbsComparer : IEqualityComparer<ulong[]>
    {
        public static readonly LimbsComparer Instance = new();

        public bool Equals(ulong[]? x, ulong[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(ulong[] limbs)
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(limbs.AsSpan()));
            return hash.ToHashCode();
        }
    }

    private CrashState StateOf(int[] choice)
    {
        // Sized first: a sampled state of many lines names most of them, and a dictionary grown
        // by doubling rehashes them all again and again.
        int named = choice.Length - choice.AsSpan().Count(0);
        var pieces = new Dictionary<long, int>(named);
        for (int j = 0; j < choice.Length; j++)
            if (choice[j] != 0)
                pieces.Add(_varying[j].Address, _varying[j].PiecesOf(choice[j]));
        return new CrashState(pieces);
    }
}
