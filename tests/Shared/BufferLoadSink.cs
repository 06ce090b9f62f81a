using DaxStack.Device.Platform;

namespace DaxStack.Tests.Shared;

/// <summary>A load sink that takes at most <c>limit</c> bytes in all and keeps a copy of them.</summary>
internal sealed class BufferLoadSink(int limit = int.MaxValue) : ILoadSink
{
    private readonly List<byte> _taken = [];

    /// <summary>How many times the device offered bytes.</summary>
    public int Calls { get; private set; }

    /// <summary>The bytes taken so far, in order.</summary>
    public byte[] Taken => [.. _taken];

    public int CopyFrom(ReadOnlySpan<byte> source)
    {
        Calls++;
        int n = Math.Min(source.Length, limit - _taken.Count);
        _taken.AddRange(source[..n]);
        return n;
    }
}
