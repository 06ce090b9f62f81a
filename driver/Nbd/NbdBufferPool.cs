using System.Buffers;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// The server's pool of 64 KiB I/O buffers, shared by the input pipes and output writers of all its
/// connections. A returned buffer is kept for the next rent (up to <see cref="MaxRetained"/> of
/// them; beyond that it is left to the GC), so a busy server stops allocating once it is warm,
/// whichever threads rent and return.
/// </summary>
/// <remarks>Models the fixed-size buffer pools network servers keep (Kestrel's pinned block pool, nbdkit's per-thread buffers).</remarks>
internal sealed class NbdBufferPool : MemoryPool<byte>
{
    /// <summary>The size of every buffer.</summary>
    public const int BlockSize = 64 << 10;

    /// <summary>The most idle buffers kept (16 MiB).</summary>
    public const int MaxRetained = 256;

    private readonly Stack<Block> _free = new(MaxRetained);
    private bool _disposed;

    /// <inheritdoc/>
    public override int MaxBufferSize => BlockSize;

    /// <summary>Idle buffers held now.</summary>
    public int Retained
    {
        get { lock (_free) return _free.Count; }
    }

    /// <inheritdoc/>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        lock (_free)
        {
            if (_free.TryPop(out var block))
            {
                block.Rented = true;
                return block;
            }
        }
        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        lock (_free)
        {
            _disposed = true;
            _free.Clear();
        }
    }

    private void Return(Block block)
    {
        lock (_free)
        {
            if (!_disposed && _free.Count < MaxRetained)
                _free.Push(block);
        }
    }

    /// <summary>One buffer; disposing it gives it back to the pool.</summary>
    private sealed class Block(NbdBufferPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize);

        public bool Rented { get; set; } = true;

        public Memory<byte> Memory => Rented ? _array : throw new ObjectDisposedException(nameof(Block), "the buffer was returned to the pool");

        public void Dispose()
        {
            if (!Rented)
                return;
            Rented = false;
            pool.Return(this);
        }
    }
}
