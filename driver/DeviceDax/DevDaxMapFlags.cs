namespace DaxStack.Driver.DeviceDax;

/// <summary>How a device-dax range is mapped.</summary>
[Flags]
public enum DevDaxMapFlags : byte
{
    /// <summary>A private, read-only mapping (device-dax refuses private mappings).</summary>
    None = 0,

    /// <summary>MAP_SHARED: required by device-dax.</summary>
    Shared = 1,

    /// <summary>PROT_WRITE.</summary>
    Write = 2,
}
