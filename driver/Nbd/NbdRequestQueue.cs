namespace DaxStack.Driver.Nbd;

/// <summary>
/// The requests of one connection in flight between its two threads, in arrival order: the
/// connection's thread parses each request (receiving a write's payload) and publishes it; the
/// worker executes the published requests that need the device in order and sends their replies
/// in order. Receiving the next requests thus
/// overlaps executing and answering the earlier ones, while each payload is copied only by the
/// thread that received or sends it, with the bytes still in that core's cache.
/// <para>
/// At most <see cref="Capacity"/> requests are in flight; the connection's thread waits for room
/// before it reads further. No lock is shared: each counter has a single writer, and each thread
/// waits on a signal of its own, set by the other.
/// </para>
/// </summary>
/// <remarks>Models a block device's tag set and request queue (blk-mq's fixed set of tags per
/// hardware queue) as an NBD server's connection uses it (nbdkit's per-connection threads).</remarks>
internal sealed class NbdRequestQueue
{
    /// <summary>Requests in flight at most.</summary>
    public const int Capacity = 128;

    /// <summary>Spins before a wait blocks: a few, as the client shares the cores.</summary>
    private const int SpinCount = 10;

    private readonly NbdJob[] _jobs = new NbdJob[Capacity];
    private readonly ManualResetEventSlim _work = new(false, SpinCount);
    private readonly ManualResetEventSlim _progress = new(false, SpinCount);

    // _produced is written by the connection's thread only; _executed and _answered by the worker only.
    private long _produced;
    private long _executed;
    private long _answered;
    private long _awaited;
    private volatile bool _closed;

    public NbdRequestQueue()
    {
        for (int i = 0; i < _jobs.Length; i++)
            _jobs[i] = new NbdJob();
    }

    /// <summary>Whether every published job has been answered: the worker has nothing left to execute or send.</summary>
    public bool IsIdle => Volatile.Read(ref _answered) == _produced;

    /// <summary>The sequence number the next published job gets.</summary>
    public long Produced => _produced;

    /// <summary>The job with sequence number <paramref name="index"/>.</summary>
    public NbdJob this[long index] => _jobs[index % Capacity];

    /// <summary>The next job, waiting until one is free. The caller fills it in, then calls <see cref="Publish"/>.</summary>
    public NbdJob Reserve()
    {
        while (_produced - Volatile.Read(ref _answered) >= Capacity)
            WaitFor(_progress, static q => q._produced - Volatile.Read(ref q._answered) < Capacity);
        return _jobs[_produced % Capacity];
    }

    /// <summary>Hands the job <see cref="Reserve"/> returned to the worker.</summary>
    public void Publish()
    {
        Volatile.Write(ref _produced, _produced + 1);
        _work.Set();
    }

    /// <summary>Waits until the worker has executed every job up to and including <paramref name="sequence"/>.</summary>
    public void WaitExecuted(long sequence)
    {
        while (Volatile.Read(ref _executed) <= sequence)
        {
            _awaited = sequence;
            WaitFor(_progress, static q => Volatile.Read(ref q._executed) > q._awaited);
        }
    }

    /// <summary>No more jobs will be published: the worker finishes the ones there are, then stops.</summary>
    public void Close()
    {
        _closed = true;
        _work.Set();
    }

    /// <summary>
    /// How many published jobs wait for the worker (the first one's number in <paramref name="first"/>).
    /// With <paramref name="wait"/>, waits for at least one; 0 then means the queue is closed and every job answered.
    /// </summary>
    public int Take(bool wait, out long first)
    {
        first = _executed;
        while (wait && Volatile.Read(ref _produced) == _executed)
        {
            if (_closed && Volatile.Read(ref _produced) == _executed)
                return 0;
            WaitFor(_work, static q => q._closed || Volatile.Read(ref q._produced) != q._executed);
        }
        return (int)(Volatile.Read(ref _produced) - _executed);
    }

    /// <summary>Marks the oldest not yet executed job as executed (its reply may still be unsent).</summary>
    public void Executed()
    {
        Volatile.Write(ref _executed, _executed + 1);
        _progress.Set();
    }

    /// <summary>Marks every executed job as answered: its reply has been sent (or dropped), and its job is free again.</summary>
    public void Answered()
    {
        Volatile.Write(ref _answered, _executed);
        _progress.Set();
    }

    /// <summary>
    /// Blocks on <paramref name="signal"/> unless <paramref name="ready"/> holds. The signal is
    /// reset before the condition is looked at again, so a set between the two is never lost.
    /// </summary>
    private void WaitFor(ManualResetEventSlim signal, Func<NbdRequestQueue, bool> ready)
    {
        signal.Reset();
        if (ready(this))
            return;
        signal.Wait();
    }
}
