using System.Numerics;
using System.Runtime.CompilerServices;

namespace DaxStack.Device.Cost;

/// <summary>
/// Shortcuts for repeated floating-point additions that give the bit-identical result of doing
/// them one after another: the cost model charges many instructions one at a time, and a long
/// run of them must cost what the same run charged instruction by instruction would.
/// </summary>
internal static class ExactSum
{
    /// <summary>
    /// <paramref name="x"/> after <paramref name="count"/> sequential <c>x += c</c> (for
    /// finite <paramref name="x"/> and <paramref name="c"/> of at least +0), in constant time
    /// whenever that sum rounds nowhere, which <see cref="IsExactSum"/> checks, and otherwise a
    /// binade at a time (<see cref="AddByBinades"/>).
    /// </summary>
    public static double AddRepeated(double x, double c, long count)
    {
        if (count <= 0)
            return x;
        if (count == 1)
            return x + c;
        double y = x + count * c;
        if (IsExactSum(x, c, y))
            return y;
        return AddByBinades(x, c, count);
    }

    /// <summary>
    /// <paramref name="x"/> after <paramref name="count"/> sequential <c>x += c</c> (for finite
    /// <paramref name="x"/> and <paramref name="c"/> of at least +0), bit for bit, in a few steps
    /// per binade the sum passes through rather than one per addition.
    /// </summary>
    /// <remarks>
    /// Why it is exact: the doubles of x's binade [2^e, 2^(e+1)) are the multiples of its spacing
    /// s, so x + c rounds to x + cs, where cs is the multiple of s nearest c, whenever that stays
    /// below 2^(e+1): every such x + c lies in the part of the binade where the doubles are evenly
    /// spaced. The first addition is done as the chain does it, which gives cs (its result less x,
    /// an exact difference of two multiples of s); the additions after it that stay below
    /// 2^(e+1) are then x + k*cs, exact multiples of s. The addition that crosses into the next
    /// binade is again done as the chain does it. When c lies exactly halfway between two
    /// multiples of s the rounding goes to the even one, which depends on x, so such a binade's
    /// additions are done one at a time, as are those from zero, subnormal or huge x.
    /// </remarks>
    public static double AddByBinades(double x, double c, long count)
    {
        while (count > 0)
        {
            double next = x + c;
            count--;
            int biased = (int)(BitConverter.DoubleToInt64Bits(x) >> 52) & 0x7FF;
            // Spacing 2^(biased - 1075) and the binade's top 2^(biased - 1022) as normal doubles.
            if (count == 0 || biased <= 53 || biased >= 2046)
            {
                x = next;
                continue;
            }
            double s = BitConverter.Int64BitsToDouble((long)(biased - 52) << 52);
            double top = BitConverter.Int64BitsToDouble((long)(biased + 1) << 52);
            double cs = next - x;
            if (next >= top || Math.Abs(c - cs) == 0.5 * s)
            {
                x = next;
                continue;
            }
            if (cs == 0)
                return next;    // c is below half the spacing: nothing moves x in this binade, nor ever after
            // The further additions that stay below the top: next + k*cs < top. The quotient may
            // round up by one; the check, exact for sums below the top, corrects that.
            double room = Math.Floor((top - next) / cs);
            long k = room >= count ? count : (long)room;
            while (k > 0 && next + k * cs >= top)
                k--;
            x = next + k * cs;
            count -= k;
        }
        return x;
    }

    /// <summary>
    /// Whether <paramref name="y"/>, computed as <c>x + k * c</c> for some whole k below 2^53,
    /// is exact, and so is every partial sum <c>x + j * c</c> for j up to k: true when
    /// <paramref name="x"/> and <paramref name="c"/> (both at least +0) are whole multiples of
    /// the spacing u of the doubles in <paramref name="y"/>'s binade [2^e, 2^(e+1)).
    /// </summary>
    /// <remarks>
    /// Why that suffices: k*c is then a multiple of u, and so exactly representable if it is
    /// below 2^(e+1), as is every multiple of u in [0, 2^(e+1)). If k*c or x + k*c were 2^(e+1) or
    /// more, rounding (which is monotonic) could not have produced a y below 2^(e+1). So
    /// x + k*c is below 2^(e+1) and a multiple of u, and every partial sum is a multiple of u
    /// between x and it: all representable, so no addition in the chain rounds and y is the
    /// exact sum the chain reaches.
    /// </remarks>
    public static bool IsExactSum(double x, double c, double y) =>
        LowestBitExponent(x) >= SpacingExponent(y) && LowestBitExponent(c) >= SpacingExponent(y);

    // log2 of the spacing of doubles around v (v finite, at least +0).
    private static int SpacingExponent(double v)
    {
        int biased = (int)(BitConverter.DoubleToInt64Bits(v) >> 52) & 0x7FF;
        return Math.Max(biased, 1) - 1075;
    }

    // log2 of the lowest set bit of v (v finite, at least +0); int.MaxValue for 0, a multiple of everything.
    private static int LowestBitExponent(double v)
    {
        long bits = BitConverter.DoubleToInt64Bits(v);
        int biased = (int)(bits >> 52) & 0x7FF;
        long significand = bits & 0xF_FFFF_FFFF_FFFFL;
        if (biased != 0)
            significand |= 1L << 52;
        if (significand == 0)
            return int.MaxValue;
        return Math.Max(biased, 1) - 1075 + BitOperations.TrailingZeroCount(significand);
    }

    /// <summary>
    /// The raw bits (<see cref="BitConverter.DoubleToInt64Bits"/>) below which a sum y, of at
    /// least +0, lies in a binade whose spacing divides <paramref name="c"/>: with x in y's
    /// binade too, y = x + k*c is then exact, as <see cref="IsExactSum"/> says, and the check
    /// is two integer comparisons (<see cref="IsExactInBinade"/>).
    /// </summary>
    public static long ExactBitsLimit(double c)
    {
        int low = LowestBitExponent(c);
        return low >= 2047 - 1076 ? long.MaxValue : (long)(low + 1076) << 52;
    }

    /// <summary>
    /// Whether <paramref name="y"/> = x + k*c (x and c at least +0) is exact and so is every
    /// partial sum: x has y's exponent and y's raw bits are below <paramref name="limit"/> from
    /// <see cref="ExactBitsLimit"/>(c). A false answer only means it could not tell so cheaply.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsExactInBinade(double x, double y, long limit)
    {
        long yb = BitConverter.DoubleToInt64Bits(y);
        return ((BitConverter.DoubleToInt64Bits(x) ^ yb) >> 52) == 0 && yb < limit;
    }
}
