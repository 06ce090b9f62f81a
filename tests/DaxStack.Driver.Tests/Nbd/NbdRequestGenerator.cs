using DaxStack.Driver.Nbd;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// Random transmission requests for a model-based test, reproducible from a seed, biased towards
/// what breaks block servers: offsets on, just before and just after logical-block and page
/// boundaries and at the last bytes of the range, zero and one-byte lengths, lengths that cross
/// blocks and pages, large ones on each of the server's data paths (received straight into the
/// device, handed to the worker, applied from the pipe; sent straight from the device, batched,
/// streamed), and a share of invalid ones (past the end, longer than the maximum payload, flags the
/// command does not take, unknown commands).
/// </summary>
internal sealed class NbdRequestGenerator
{
    private const int Page = 4096;

    private readonly Random _random;
    private readonly long _low;
    private readonly long _high;
    private readonly long _size;
    private readonly int _blockSize;
    private readonly int _maxPayload;
    private readonly bool _invalid;

    /// <summary>
    /// Requests over [<paramref name="low"/>, <paramref name="high"/>) of an export of
    /// <paramref name="size"/> bytes; invalid ones (which may reach anywhere) only when <paramref name="invalid"/>.
    /// </summary>
    public NbdRequestGenerator(int seed, long low, long high, long size, int blockSize, int maxPayload, bool invalid)
    {
        _random = new Random(seed);
        _low = low;
        _high = high;
        _size = size;
        _blockSize = blockSize;
        _maxPayload = maxPayload;
        _invalid = invalid;
    }

    public Random Random => _random;

    /// <summary>The next request; never a write longer than the maximum payload (that ends the connection).</summary>
    public NbdModelRequest Next()
    {
        if (_invalid && _random.Next(8) == 0)
            return NextInvalid();
        int pick = _random.Next(100);
        ushort type = pick switch
        {
            < 38 => CmdWrite,
            < 72 => CmdRead,
            < 82 => CmdWriteZeroes,
            < 90 => CmdTrim,
            < 96 => CmdFlush,
            _ => CmdCache,
        };
        ushort flags = _random.Next(4) == 0 ? FlagFua : (ushort)0;
        if (type == CmdWriteZeroes && _random.Next(2) == 0)
            flags |= FlagNoHole;
        if (type == CmdFlush)
            return new NbdModelRequest(type, flags, 0, 0);
        long length = NextLength(type, out bool aligned);
        long offset = aligned && _random.Next(4) != 0 ? AlignedOffset(length) : NextOffset(length);
        return Make(type, flags, (ulong)offset, (uint)length);
    }

    /// <summary>
    /// A write longer than the maximum payload and of 2^25 bytes or more (its header only):
    /// refused, then the server hangs up.
    /// </summary>
    public NbdModelRequest Oversized() =>
        new(CmdWrite, 0, (ulong)AlignedOffset(), (uint)Math.Max(_maxPayload, 1 << 25) + (uint)_blockSize * (uint)_random.Next(1, 4));

    private NbdModelRequest NextInvalid()
    {
        ushort[] types = [CmdRead, CmdWrite, CmdTrim, CmdWriteZeroes, CmdCache, CmdFlush];
        ushort type = types[_random.Next(types.Length)];
        switch (_random.Next(6))
        {
            case 0:
            {
                // Crosses the end of the export (a large write's payload must still be skipped whole).
                uint length = (uint)(_random.Next(3) == 0 ? _random.Next(NbdTransmission.MinHandedWrite, _maxPayload) : _random.Next(2, 3 * Page));
                ulong offset = (ulong)(_size - _random.Next(1, (int)length));
                return type == CmdFlush ? Make(CmdRead, 0, offset, length) : Make(type, 0, offset, length);
            }
            case 1:
            {
                // Starts at or past the end, or so far that offset + length wraps around 2^64.
                ulong offset = _random.Next(3) switch
                {
                    0 => (ulong)_size + (ulong)_random.Next(1, 1 << 20),
                    1 => ulong.MaxValue - (ulong)_random.Next(0, 4096),
                    _ => (ulong)_size,
                };
                uint length = (uint)_random.Next(1, 2 * Page);
                return Make(type == CmdFlush ? CmdWriteZeroes : type, 0, offset, length);
            }
            case 2:
            {
                // A flag the command does not take (NO_HOLE is write-zeroes' only).
                ushort flag = (ushort)(1 << _random.Next(1, 16));
                if (type == CmdWriteZeroes && flag == FlagNoHole)
                    flag = FlagDf;
                long length = type == CmdFlush ? 0 : _random.Next(3) == 0 ? NextLength(type, out _) : _random.Next(0, 2 * Page);
                return Make(type, (ushort)(flag | (_random.Next(2) == 0 ? FlagFua : 0)), type == CmdFlush ? 0 : (ulong)NextOffset(length), (uint)length);
            }
            case 3:
                // A read, or a write below 2^25 bytes with its payload, longer than the maximum
                // payload: refused, and the connection goes on.
                return _random.Next(2) == 0 || _maxPayload + 2 * _blockSize >= 1 << 25
                    ? Make(CmdRead, 0, 0, (uint)_maxPayload + (uint)_random.Next(1, 2 * _blockSize))
                    : Make(CmdWrite, 0, (ulong)AlignedOffset(), (uint)_maxPayload + (uint)_random.Next(1, 2 * _blockSize));
            case 4:
                // Unknown commands, and BLOCK_STATUS without a negotiated metadata context.
                return Make((ushort)(_random.Next(2) == 0 ? CmdBlockStatus : _random.Next(8, 0x10000)), 0, (ulong)AlignedOffset(), 512);
            default:
                // Several faults at once: any of their errors is right.
                return Make(type == CmdFlush ? CmdWrite : type, 0x8000, (ulong)_size - 10, 100);
        }
    }

    private NbdModelRequest Make(ushort type, ushort flags, ulong offset, uint length)
    {
        byte[]? payload = null;
        if (type == CmdWrite)
        {
            payload = new byte[length];
            _random.NextBytes(payload);
        }
        return new NbdModelRequest(type, flags, offset, length, payload);
    }

    /// <summary>A length, and whether it was picked for a path that wants whole blocks.</summary>
    private long NextLength(ushort type, out bool aligned)
    {
        long span = _high - _low;
        int bucket = _random.Next(20);
        aligned = bucket is 10 or 11 or 12 or 13 or 14;
        long length = bucket switch
        {
            0 => 0,
            1 => 1,
            < 7 => _random.Next(2, 3 * _blockSize),
            < 10 => _random.Next(1, 4 * Page),
            < 12 => _blockSize * _random.Next(1, 2 * Page / _blockSize + 2),
            // In-place write / direct read: block-aligned, at least MinHandedWrite.
            < 15 => _blockSize * (long)_random.Next(NbdTransmission.MinHandedWrite / _blockSize, (3 * NbdTransmission.MaxBatchedRead / 2) / _blockSize),
            // Handed to the worker (an unaligned length of 128 KiB to 1 MiB), or a read batched whole.
            < 18 => _random.Next(NbdTransmission.MinHandedWrite, NbdTransmission.MaxBatchedRead) | 1,
            // Past the reply buffer: a streamed read, a write applied from the pipe as it arrives.
            _ => _random.Next(NbdTransmission.MaxBatchedRead + 1, _maxPayload - _blockSize) | 1,
        };
        // Trim and write-zeroes have no payload: any length within the range will do.
        if (type is CmdTrim or CmdWriteZeroes && _random.Next(4) == 0)
            length = _random.NextInt64(0, span + 1);
        return Math.Min(length, span);
    }

    private long NextOffset(long length)
    {
        long last = _high - length;    // the largest offset that keeps the request in range
        long boundary = _random.Next(2) == 0 ? _blockSize : Page;
        long offset = _random.Next(8) switch
        {
            0 => _low,
            1 => last,
            2 => last - _random.Next(0, 3),
            < 5 => RoundDown(_random.NextInt64(_low, last + 1), boundary) + _random.Next(-3, 4),
            5 => RoundDown(_random.NextInt64(_low, last + 1), boundary),
            _ => _random.NextInt64(_low, last + 1),
        };
        return Math.Clamp(offset, _low, last);
    }

    /// <summary>A block-aligned offset at which <paramref name="length"/> bytes fit (the first one when none is aligned).</summary>
    private long AlignedOffset(long length = 512)
    {
        long first = RoundDown(_low + _blockSize - 1, _blockSize);
        long last = RoundDown(_high - length, _blockSize);
        return last < first ? _low : RoundDown(_random.NextInt64(first, last + 1), _blockSize);
    }

    private static long RoundDown(long value, long unit) => value / unit * unit;
}
