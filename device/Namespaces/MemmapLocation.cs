namespace DaxStack.Device.Namespaces;

/// <summary>
/// Where an fsdax or devdax namespace's page metadata (the kernel's <c>struct page</c> array)
/// lives: ndctl's <c>--map=dev|mem</c>. The value is recorded in the label and reported by
/// <c>ndctl list</c>; the emulator keeps page metadata in managed memory either way, so no
/// capacity is reserved on the media and a namespace's usable size is its whole size.
/// The numeric values are stored in label files.
/// </summary>
public enum MemmapLocation : byte
{
    /// <summary>Not applicable (raw and sector namespaces).</summary>
    None = 0,

    /// <summary>On the device itself (ndctl's default).</summary>
    Dev = 1,

    /// <summary>In system memory.</summary>
    Mem = 2,
}
