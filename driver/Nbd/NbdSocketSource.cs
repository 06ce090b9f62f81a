using DaxStack.Device.Platform;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// A write payload's bytes as the connection's socket holds them, received straight into the
/// device's memory (<see cref="Block.IBlockDeviceWriteFrom"/>): the payload is copied once, by
/// the socket, instead of into a buffer and then to pmem. It hands over only what the socket
/// already holds and never waits, as a store source must (every other use of the device's
/// region waits while the chunk it fills is in progress).
/// </summary>
/// <remarks>Models a userspace NBD server that <c>recv</c>s a write's payload into its DAX mapping of the namespace.</remarks>
internal sealed class NbdSocketSource(NbdConnection connection) : IStoreSource
{
    /// <inheritdoc/>
    public int CopyTo(Span<byte> destination) => connection.ReceiveNow(destination);
}
