using System.Text;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>One fixed-newstyle option reply.</summary>
internal sealed record OptionReply(uint Option, uint Type, byte[] Data)
{
    /// <summary>The data as a string (error messages).</summary>
    public string Message => Encoding.UTF8.GetString(Data);
}
