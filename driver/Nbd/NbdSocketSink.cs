using DaxStack.Device.Platform;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// A read's data sent from the device's memory straight to the connection's socket
/// (<see cref="Block.IBlockDeviceReadTo"/>): the data is copied once, by the socket, instead of
/// into the reply buffer and then into the socket. It sends only what the socket takes at once and
/// never waits, as a load sink must (the device's region lock is held).
/// </summary>
/// <remarks>Models a userspace NBD server that <c>send</c>s a read's data from its DAX mapping of the namespace.</remarks>
internal sealed class NbdSocketSink(NbdConnection connection) : ILoadSink
{
    /// <inheritdoc/>
    public int CopyFrom(ReadOnlySpan<byte> source) => connection.SendNow(source);
}
