namespace DaxStack.Fs.Ramfs;

/// <summary>One 4 KiB page of a ramfs file; preallocated pages are unwritten and read as zeroes.</summary>
/// <remarks>Models a tmpfs page-cache folio, with <c>Unwritten</c> standing for a fallocated folio that is not yet uptodate.</remarks>
internal sealed class RamfsPage
{
    public const int Size = 4096;

    public byte[] Data { get; } = new byte[Size];

    /// <summary>Allocated by fallocate and never written: its bytes are zero.</summary>
    public bool Unwritten { get; set; }
}
