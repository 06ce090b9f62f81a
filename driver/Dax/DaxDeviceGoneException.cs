namespace DaxStack.Driver.Dax;

/// <summary>
/// An access through a <see cref="DaxWindow"/> whose device is gone: the namespace the window was
/// handed out for has been destroyed or reconfigured since, or the driver detached from the
/// device it came from (<see cref="Pmem.PmemDevice.Dispose"/>), and that device is unbound. The range may by then belong to another namespace, so the access was refused without
/// touching memory. Holding a window across an unbind is a bug of the holder (kernel code holds
/// <c>dax_read_lock</c> while it uses a kaddr, and the kernel zaps user mappings of a dax device it
/// kills); a layer that maps windows into user address spaces turns this into SIGBUS.
/// </summary>
/// <remarks>Models a use of a <c>dax_direct_access</c> kaddr after <c>kill_dax</c>.</remarks>
public sealed class DaxDeviceGoneException : InvalidOperationException
{
    public DaxDeviceGoneException(string namespaceName, long physicalAddress)
        : base($"the DAX window at physical address 0x{physicalAddress:x} can no longer be used: {namespaceName} was destroyed or reconfigured, " +
            "or the driver detached from it, and the window's device is unbound (the range may now belong to another namespace)")
    {
        NamespaceName = namespaceName;
        PhysicalAddress = physicalAddress;
    }

    /// <summary>The namespace the window was handed out for (namespaceR.N).</summary>
    public string NamespaceName { get; }

    /// <summary>The physical address of the window's first byte.</summary>
    public long PhysicalAddress { get; }
}
