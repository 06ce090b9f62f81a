namespace DaxStack.Driver.DeviceDax;

/// <summary>How a device-dax fault ended.</summary>
/// <remarks>The subset of the kernel's <c>vm_fault_t</c> that <c>dev_dax_huge_fault</c> returns.</remarks>
public enum DaxFaultStatus : byte
{
    /// <summary>VM_FAULT_NOPAGE: an entry was installed.</summary>
    NoPage,

    /// <summary>VM_FAULT_FALLBACK: the fault size is larger than the device's alignment; retry with a smaller one.</summary>
    Fallback,

    /// <summary>VM_FAULT_SIGBUS: the fault cannot be served (smaller than the alignment, past the device end, a write to a read-only mapping).</summary>
    SigBus,
}
