namespace DaxStack.Driver.Nbd;

/// <summary>The information items of <c>NBD_REP_INFO</c> replies.</summary>
/// <remarks>Models the NBD protocol's <c>NBD_INFO_*</c> types.</remarks>
public enum NbdInfoType : ushort
{
    /// <summary><c>NBD_INFO_EXPORT</c>: size and transmission flags; always sent before a successful ACK.</summary>
    Export = 0,

    /// <summary><c>NBD_INFO_NAME</c>: the export's canonical name.</summary>
    Name = 1,

    /// <summary><c>NBD_INFO_DESCRIPTION</c>: a description for people.</summary>
    Description = 2,

    /// <summary><c>NBD_INFO_BLOCK_SIZE</c>: minimum, preferred and maximum block sizes.</summary>
    BlockSize = 3,
}
