namespace DaxStack.Device.Cost;

/// <summary>The cache-line write-back instructions.</summary>
public enum FlushKind
{
    /// <summary>Serialising write-back and eviction; persistent when it retires.</summary>
    Clflush,
    /// <summary>Weakly ordered write-back and eviction; persistent after a later fence.</summary>
    Clflushopt,
    /// <summary>Weakly ordered write-back that keeps the line cached; persistent after a later fence.</summary>
    Clwb,
}
