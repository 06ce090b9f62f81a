using DaxStack.Device.Errors;

namespace DaxStack.Fs.Tests.Vfs.Model;

/// <summary>What one step returned: an errno, or a value plus optional bytes or text (a listing, a stat).</summary>
internal readonly record struct ModelOutcome(Errno? Error, long Value, string Detail)
{
    public static ModelOutcome Fail(Errno e) => new(e, 0, string.Empty);

    public static ModelOutcome Ok(long value = 0, string detail = "") => new(null, value, detail);

    public static string Hex(ReadOnlySpan<byte> data) => Convert.ToHexString(data);

    public override string ToString() => Error is { } e ? e.ToString() : $"ok {Value} {(Detail.Length > 80 ? Detail[..80] + "..." : Detail)}";
}
