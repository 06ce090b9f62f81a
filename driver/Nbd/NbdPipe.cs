using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace DaxStack.Driver.Nbd;

/// <summary>Reads of exact sizes from a connection's input pipe, consuming as they go so the pipe never holds more than it must.</summary>
internal static class NbdPipe
{
    /// <summary>
    /// Copies exactly <paramref name="destination"/>.Length bytes. False when the client closed the
    /// stream first, or (with <paramref name="stopOnCancel"/>) when a pending read was cancelled
    /// because the server is stopping.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<bool> ReadExactlyAsync(PipeReader reader, Memory<byte> destination, bool stopOnCancel)
    {
        int filled = 0;
        while (filled < destination.Length)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            int n = (int)Math.Min(buffer.Length, destination.Length - filled);
            buffer.Slice(0, n).CopyTo(destination.Span[filled..]);
            filled += n;
            reader.AdvanceTo(buffer.GetPosition(n));
            if (filled < destination.Length && (result.IsCompleted || (result.IsCanceled && stopOnCancel)))
                return false;
        }
        return true;
    }

    /// <summary>Consumes and drops <paramref name="count"/> bytes without holding them; false when the client closed the stream first.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<bool> SkipAsync(PipeReader reader, long count)
    {
        while (count > 0)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            long n = Math.Min(buffer.Length, count);
            count -= n;
            reader.AdvanceTo(buffer.GetPosition(n));
            if (count > 0 && result.IsCompleted)
                return false;
        }
        return true;
    }
}
