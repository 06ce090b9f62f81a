namespace DaxStack.Driver.Nbd;

/// <summary>One transmission request header: magic, command flags, type, the client's opaque handle, offset and length.</summary>
/// <remarks>Models <c>struct nbd_request</c> of the NBD protocol.</remarks>
internal readonly record struct NbdRequest(uint Magic, NbdCommandFlags Flags, ushort Type, ulong Handle, ulong Offset, uint Length);
