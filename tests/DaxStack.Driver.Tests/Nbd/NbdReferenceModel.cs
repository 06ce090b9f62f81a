using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// What an NBD export must do, as plainly as it can be written: the export is a byte array that
/// writes copy into and write-zeroes clear; trim clears the whole logical blocks inside its range
/// and keeps the partial ones at its ends (what this server promises: a trim is a discard bio,
/// which zeroes pmem, on the blocks the protocol lets it round to). Errors follow proto.md: ENOSPC
/// for a write or write-zeroes past the end, EINVAL for a read, trim or cache past the end or a
/// read beyond the maximum payload, EPERM for a change to a read-only export, EINVAL for an
/// unknown command or a flag the command does not take (FUA on any command, NO_HOLE on
/// write-zeroes only). Where several apply the protocol does not rank them, so any of them is right.
/// <para>
/// Durability is tracked per byte for a strict power failure: a byte is certain when its visible
/// value is known to be durable (a flush since its last change, or its last change carried FUA);
/// a byte changed since without FUA may come back as any value it has held since then.
/// </para>
/// </summary>
internal sealed class NbdReferenceModel
{
    private readonly byte[] _visible;
    private readonly byte[] _durable;
    private readonly bool[] _certain;

    public NbdReferenceModel(long size, int blockSize, int maxPayload, bool readOnly, byte[]? initial = null)
    {
        Size = size;
        BlockSize = blockSize;
        MaxPayload = maxPayload;
        ReadOnly = readOnly;
        _visible = initial != null ? (byte[])initial.Clone() : new byte[size];
        _durable = (byte[])_visible.Clone();
        _certain = new bool[size];
        Array.Fill(_certain, true);
    }

    public long Size { get; }

    public int BlockSize { get; }

    public int MaxPayload { get; }

    public bool ReadOnly { get; }

    /// <summary>What a read of the whole export must return now.</summary>
    public ReadOnlySpan<byte> Visible => _visible;

    /// <summary>
    /// The errors the server may answer <paramref name="request"/> with; empty when it must
    /// succeed. A request that fails changes nothing.
    /// </summary>
    public uint[] AllowedErrors(NbdModelRequest request)
    {
        if (request.Type == CmdDisc)
            return [];    // no reply
        if (request.Type is not (CmdRead or CmdWrite or CmdFlush or CmdTrim or CmdCache or CmdWriteZeroes))
            return [EINVAL];
        if (request.Type == CmdWrite && request.Length > MaxPayload)
            return [EINVAL];    // from 2^25 bytes on the server then hangs up: the payload is not skipped
        var errors = new List<uint>();
        // FUA is allowed on every command, NO_HOLE on write-zeroes only.
        ushort allowed = request.Type == CmdWriteZeroes ? (ushort)(FlagFua | FlagNoHole) : FlagFua;
        if ((request.Flags & unchecked((ushort)~allowed)) != 0)
            errors.Add(EINVAL);
        if (ReadOnly && request.Type is CmdWrite or CmdTrim or CmdWriteZeroes)
            errors.Add(EPERM);
        bool inRange = request.Offset <= (ulong)Size && request.Length <= (ulong)Size - request.Offset;
        if (!inRange && request.Type != CmdFlush)
            errors.Add(request.Type is CmdWrite or CmdWriteZeroes ? ENOSPC : EINVAL);
        if (request.Type == CmdRead && request.Length > MaxPayload)
            errors.Add(EINVAL);
        return errors.Distinct().ToArray();
    }

    /// <summary>
    /// Applies a request that succeeded; returns what a read returns (null for other commands).
    /// </summary>
    public byte[]? Apply(NbdModelRequest request)
    {
        int offset = (int)request.Offset, length = (int)request.Length;
        bool fua = (request.Flags & FlagFua) != 0;
        switch (request.Type)
        {
            case CmdRead:
                return _visible.AsSpan(offset, length).ToArray();
            case CmdWrite:
                Change(offset, request.Payload, length, fua);
                break;
            case CmdWriteZeroes:
                Change(offset, null, length, fua);
                break;
            case CmdTrim:
                // Only the whole blocks inside the range (the protocol lets the server round in).
                long start = (offset + BlockSize - 1L) / BlockSize * BlockSize;
                long end = offset + length;
                end -= end % BlockSize;
                if (end > start)
                    Change((int)start, null, (int)(end - start), fua);
                break;
            case CmdFlush:
                _visible.CopyTo(_durable, 0);
                Array.Fill(_certain, true);
                break;
        }
        return null;
    }

    /// <summary>
    /// The first byte of [<paramref name="low"/>, <paramref name="high"/>), after a strict power
    /// failure, that differs from what the model knows to be durable (<paramref name="afterCrash"/>
    /// is the whole export), with that durable value; -1 when none. <paramref name="known"/> counts
    /// the bytes the model knows.
    /// </summary>
    public long FirstDurabilityMismatch(byte[] afterCrash, long low, long high, out long known, out byte durable)
    {
        known = 0;
        durable = 0;
        long first = -1;
        for (long i = low; i < high; i++)
        {
            if (!_certain[i])
                continue;
            known++;
            if (first < 0 && afterCrash[i] != _durable[i])
            {
                first = i;
                durable = _durable[i];
            }
        }
        return first;
    }

    private void Change(int offset, byte[]? data, int length, bool fua)
    {
        var target = _visible.AsSpan(offset, length);
        if (data == null)
            target.Clear();
        else
            data.AsSpan(0, length).CopyTo(target);
        if (fua)
        {
            target.CopyTo(_durable.AsSpan(offset, length));
            _certain.AsSpan(offset, length).Fill(true);
        }
        else
            _certain.AsSpan(offset, length).Fill(false);
    }
}
