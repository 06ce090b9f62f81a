using DaxStack.Device.Platform;

namespace DaxStack.Bench.Driver;

/// <summary>A request's payload from memory, handed over as a socket would: all of it, in order, from where it was rewound to.</summary>
internal sealed class ArraySource(byte[] data) : IStoreSource
{
    private int _position;

    /// <summary>Starts the payload again from its first byte.</summary>
    public void Rewind() => _position = 0;

    public int CopyTo(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, data.Length - _position);
        data.AsSpan(_position, n).CopyTo(destination);
        _position += n;
        return n;
    }
}
