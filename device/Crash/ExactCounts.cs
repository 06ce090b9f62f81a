using System.Numerics;

namespace DaxStack.Device.Crash;

/// <summary>
/// Exact big-integer arithmetic for the counts of a <see cref="CrashStateSpace"/>: products and
/// sums of binomials in a few multiplications of balanced operands rather than one small step
/// per line or per term.
/// </summary>
/// <remarks>
/// Products, binomials (from their prime factorisation) and sums of binomials all use binary
/// splitting: the work is split in halves whose results are combined by multiplications of
/// balanced operands, which the runtime's <see cref="BigInteger"/> does in sub-quadratic time,
/// while a number grown one factor or one term at a time costs time in proportion to its size
/// at every step: quadratic in all. A sum of k binomials of n carries numbers of about
/// k log2(n) bits until its final exact division, so it is cheapest near k = 0 and k = n / 2
/// and dearest near n / 4 (500,000 lines: about 1 s there, 40 ms at n / 2).
/// </remarks>
internal static class ExactCounts
{
    // Below this many binomials the terms are summed one by one: each step is a multiplication
    // and a division by a small number, cheap while the terms are short.
    private const int TermByTermLimit = 64;

    // Ranges of this many ratios are combined term by term at the leaves of the splitting.
    private const int LeafRatios = 8;

    /// <summary>The product of <paramref name="factors"/> (1 when there are none).</summary>
    public static BigInteger Product(ReadOnlySpan<ulong> factors)
    {
        if (factors.Length <= 4)
        {
            BigInteger product = BigInteger.One;
            foreach (ulong f in factors)
                product *= f;
            return product;
        }
        int half = factors.Length / 2;
        return Product(factors[..half]) * Product(factors[half..]);
    }

    /// <summary>C(n, 0) + C(n, 1) + ... + C(n, k), for 0 &lt;= k &lt;= n / 2.</summary>
    public static BigInteger SumOfBinomials(int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, n / 2);
        if (k < TermByTermLimit)
        {
            BigInteger total = 0, binomial = 1;
            for (int size = 0; size <= k; size++)
            {
                total += binomial;
                binomial = binomial * (n - size) / (size + 1); // C(n, size+1) from C(n, size), exact
            }
            return total;
        }
        // The terms below the middle, C(n, 0) .. C(n, h), sum to half of 2^n without the middle
        // term when n is even; so from the middle down, C(n, k+1) .. C(n, h) are subtracted, each
        // the one above it times i / (n - i + 1). Whichever side has fewer terms is summed.
        int h = (n - 1) / 2;
        if (h - k >= k)
        {
            // From the bottom: C(n, i) is C(n, 0) = 1 times (n - j) / (j + 1) for j < i.
            var (q, t) = SumOfRatioProducts(s => n - s, s => s + 1, k);
            return BigInteger.One + t / q;  // exact: the sum is an integer
        }
        var middle = Binomial(n, h);
        var belowHalf = BigInteger.One << (n - 1);
        if (n % 2 == 0)
            belowHalf -= middle * (n - h) / (h + 1) / 2;   // C(n, n/2) / 2
        if (k > h)
            return belowHalf + middle * (n - h) / (h + 1);  // k = n/2, n even: plus C(n, n/2)
        if (k == h)
            return belowHalf;
        // C(n, k+1) .. C(n, h): C(n, h) times 1 and the products of (h - s) / (n - h + s + 1).
        var (qTop, tTop) = SumOfRatioProducts(s => h - s, s => n - h + s + 1, h - k - 1);
        return belowHalf - middle - middle * tTop / qTop;   // exact: each term is an integer
    }

    /// <summary>The binomial coefficient C(n, m), 0 &lt;= m &lt;= n, from its prime factorisation.</summary>
    public static BigInteger Binomial(int n, int m)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(m, n);
        // Legendre: the exponent of a prime p in n! is the sum of n / p^i; C(n, m) has those of
        // n! less those of m! and (n - m)!. The prime powers are packed in 64-bit words and
        // multiplied by halves: the multiplications stay balanced and the numbers n bits at most.
        var composite = new bool[n + 1];
        var words = new List<ulong>();
        ulong word = 1;
        for (int p = 2; p <= n; p++)
        {
            if (composite[p])
                continue;
            for (long c = (long)p * p; c <= n; c += p)
                composite[c] = true;
            int exponent = 0;
            for (long power = p; power <= n; power *= p)
                exponent += (int)(n / power - m / power - (n - m) / power);
            for (int e = 0; e < exponent; e++)
            {
                if (word > ulong.MaxValue / (ulong)p)
                {
                    words.Add(word);
                    word = 1;
                }
                word *= (ulong)p;
            }
        }
        words.Add(word);
        return Product(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(words));
    }

    // Q and T with T / Q = the sum over i in [0, count) of the products over s in [0, i] of
    // num(s) / den(s), Q the product of den(s) for s < count.
    private static (BigInteger Q, BigInteger T) SumOfRatioProducts(Func<int, int> num, Func<int, int> den, int count)
    {
        if (count == 0)
            return (BigInteger.One, BigInteger.Zero);
        var (_, q, t) = SplitRatios(num, den, 0, count, wantP: false);
        return (q, t);
    }

    // For the ratios num(s) / den(s), a <= s < b: P = product of num(s), Q = product of den(s),
    // and T with T / Q = sum over i in [a, b) of product over s in [a, i] of num(s) / den(s).
    // Halves [a, m) and [m, b) combine as P = P1 P2, Q = Q1 Q2, T = T1 Q2 + P1 T2.
    private static (BigInteger P, BigInteger Q, BigInteger T) SplitRatios(Func<int, int> num, Func<int, int> den, int a, int b, bool wantP)
    {
        if (b - a <= LeafRatios)
        {
            BigInteger p = BigInteger.One, q = BigInteger.One, t = BigInteger.Zero;
            for (int s = a; s < b; s++)
            {
                p *= num(s);
                t = t * den(s) + p;
                q *= den(s);
            }
            return (p, q, t);
        }
        int m = a + (b - a) / 2;
        var (p1, q1, t1) = SplitRatios(num, den, a, m, wantP: true);
        var (p2, q2, t2) = SplitRatios(num, den, m, b, wantP);
        return (wantP ? p1 * p2 : BigInteger.Zero, q1 * q2, t1 * q2 + p1 * t2);
    }
}
