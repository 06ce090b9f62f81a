namespace DaxStack.Device.Poison;

/// <summary>
/// A load consumed poisoned memory: the emulated machine-check exception. Block and read paths
/// turn it into EIO, mapped access into SIGBUS.
/// </summary>
public sealed class MachineCheckException : Exception
{
    public MachineCheckException(long physicalAddress, string regionName)
        : base($"machine check: uncorrectable memory error (poison) at physical address 0x{physicalAddress:x} in {regionName}")
    {
        PhysicalAddress = physicalAddress;
        RegionName = regionName;
    }

    /// <summary>The first poisoned physical address the load touched.</summary>
    public long PhysicalAddress { get; }

    /// <summary>The region holding it.</summary>
    public string RegionName { get; }
}
