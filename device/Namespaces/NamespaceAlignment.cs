namespace DaxStack.Device.Namespaces;

/// <summary>
/// The alignments a namespace may have. fsdax and devdax namespaces take one of the three page
/// sizes x86-64 can map (PTE, PMD, PUD); raw and sector namespaces are page aligned.
/// </summary>
/// <remarks>Models the values of the kernel's <c>supported_alignments</c> attribute of a pfn/dax seed on x86-64.</remarks>
public static class NamespaceAlignment
{
    /// <summary>4 KiB: a PTE-sized page.</summary>
    public const long Page = 4096;

    /// <summary>2 MiB: a PMD-sized huge page (the default for fsdax and devdax).</summary>
    public const long Pmd = 2L << 20;

    /// <summary>1 GiB: a PUD-sized huge page.</summary>
    public const long Pud = 1L << 30;

    /// <summary>The alignments fsdax and devdax accept.</summary>
    public static IReadOnlyList<long> Supported { get; } = [Page, Pmd, Pud];

    /// <summary>The alignment a namespace of <paramref name="mode"/> gets when none is asked for.</summary>
    public static long DefaultFor(NamespaceMode mode) =>
        mode is NamespaceMode.Fsdax or NamespaceMode.Devdax ? Pmd : Page;
}
