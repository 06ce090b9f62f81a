using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// One transmission request of a model-based test: the header's fields and, for a write, the
/// payload sent after it (none for a write longer than the server's maximum payload, which ends
/// the connection).
/// </summary>
internal sealed record NbdModelRequest(ushort Type, ushort Flags, ulong Offset, uint Length, byte[]? Payload = null)
{
    /// <summary>A line of a failure report: the command, its flags and range, as a reader can replay it.</summary>
    public override string ToString()
    {
        string name = Type switch
        {
            CmdRead => "READ",
            CmdWrite => "WRITE",
            CmdFlush => "FLUSH",
            CmdTrim => "TRIM",
            CmdCache => "CACHE",
            CmdDisc => "DISC",
            CmdWriteZeroes => "WRITE_ZEROES",
            _ => $"CMD#{Type}",
        };
        string flags = Flags == 0 ? "" : $" flags=0x{Flags:x}";
        string payload = Type == CmdWrite && Payload == null ? " (header only)" : "";
        return $"{name}{flags} [{Offset}, +{Length}){payload}";
    }
}
