namespace DaxStack.Driver.Nbd;

/// <summary>The magic numbers that frame NBD messages, all sent big-endian.</summary>
/// <remarks>Models <c>NBDMAGIC</c>, <c>IHAVEOPT</c>, the option reply magic, <c>NBD_REQUEST_MAGIC</c> and <c>NBD_SIMPLE_REPLY_MAGIC</c> of the NBD protocol.</remarks>
public static class NbdMagic
{
    /// <summary>ASCII <c>NBDMAGIC</c>: the first 8 bytes the server sends (the <c>INIT_PASSWD</c>).</summary>
    public const ulong InitPassword = 0x4e42444d41474943;

    /// <summary>ASCII <c>IHAVEOPT</c>: sent by the server after <see cref="InitPassword"/> and by the client before every option.</summary>
    public const ulong IHaveOpt = 0x49484156454F5054;

    /// <summary>Starts every fixed-newstyle option reply.</summary>
    public const ulong OptionReply = 0x3e889045565a9;

    /// <summary>Starts every transmission request (<c>NBD_REQUEST_MAGIC</c>).</summary>
    public const uint Request = 0x25609513;

    /// <summary>Starts every simple reply (<c>NBD_SIMPLE_REPLY_MAGIC</c>).</summary>
    public const uint SimpleReply = 0x67446698;
}
