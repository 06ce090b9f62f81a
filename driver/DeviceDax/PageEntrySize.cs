namespace DaxStack.Driver.DeviceDax;

/// <summary>The sizes of page-table entry x86-64 can install for a fault.</summary>
public enum PageEntrySize : long
{
    /// <summary>A 4 KiB page (PTE).</summary>
    Pte = 4096,

    /// <summary>A 2 MiB huge page (PMD).</summary>
    Pmd = 2L << 20,

    /// <summary>A 1 GiB huge page (PUD).</summary>
    Pud = 1L << 30,
}
