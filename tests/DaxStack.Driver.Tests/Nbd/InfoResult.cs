using System.Buffers.Binary;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>The NBD_REP_INFO replies of an INFO or GO option and its final reply.</summary>
internal sealed record InfoResult(IReadOnlyList<OptionReply> Infos, OptionReply Final)
{
    /// <summary>The payload of the NBD_REP_INFO of <paramref name="type"/> after its 2-byte type, or null.</summary>
    public byte[]? Info(ushort type) => Infos
        .Where(i => BinaryPrimitives.ReadUInt16BigEndian(i.Data) == type)
        .Select(i => i.Data[2..])
        .FirstOrDefault();
}
