using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DaxStack.Device.Persistence;

/// <summary>
/// The ADR persistence model of one region: which 64-byte lines hold stores that are visible to
/// the CPU but not yet known to be persistent, what each such line's persisted content is, and
/// the stores made to it since (so a crash can leave any prefix of them, in 8-byte pieces).
/// </summary>
/// <remarks>
/// Stores are applied to the media buffer at once (it is the CPU view while running); the
/// tracker keeps the persisted content of each dirty line aside and puts it back at a crash.
/// State lives in a two-level table of 4 KiB pages (a directory per 2 MiB, allocated on first
/// touch) so lookups are two array indexations, and a page's slot returns to a pool when its
/// last dirty line persists: tracking costs memory only for pages with lines in flight.
/// The last store to a line is "live": its bytes are read from the media when needed, and are
/// copied aside only when a later store to the same line would overwrite them.
/// Not thread-safe: the owning region serialises callers with its lock.
/// </remarks>
internal sealed unsafe class LineTracker
{
    public const int LineSize = 64;
    private const int LinesPerPage = 64;
    private const int PageShift = 12;
    private const int PagesPerDir = 512; // 2 MiB of address space per directory
    private const int None = -1;

    /// <summary>
    /// The most lines a region keeps in flight: 32 MiB of unpersisted data, the size of a large
    /// last-level cache. Past it the tracker writes whole pages back on its own, as a cache evicts
    /// dirty lines and as write-combining buffers drain; a line may always become persistent
    /// before its fence, so every state this leaves is one the hardware could leave, and the
    /// model's memory stays bounded whatever a workload does without fencing.
    /// </summary>
    public const long MaxInFlightLines = 1 << 19;

    /// <summary>The most store-history entries kept (lines stored to again and again before a fence); past it pages are written back as for <see cref="MaxInFlightLines"/>.</summary>
    public const int MaxHistoryEntries = 1 << 19;
    private const int FullLine = -2;     // Head/Tail of a line whose single store covers it whole (no entry; data live in media)
    // Stores this long or longer keep whole clean pages' persisted content aside with non-temporal
    // stores (see SaveBaselineAndStorePage). Measured on the development machine: at 64 KiB they
    // were slower than cached stores, at 256 KiB even, from 512 KiB on faster.
    private const int StreamBaselineBytes = 512 << 10;
    // A store that only records (its data arrives after, straight into the media: Cpu.NtStoreFrom)
    // streams its saved content from this size on: the media it reads stays in the cache for the
    // data that follows, and the saved content, which nothing reads soon, stays out of it.
    private const int StreamRecordBytes = 64 << 10;

    private struct LineState
    {
        public int Head;        // oldest store entry, or None
        public int Tail;        // newest store entry, or None
        public int Count;       // stores since last persisted; 0 = clean
        public long Issued;     // newest store sequence number a write-back (by any CPU) covers
        public long FullSeq;    // sequence number of that single store when Head == FullLine
    }

    private struct StoreEntry
    {
        public int Next;
        public byte Offset;
        public byte Length;
        public bool Live;       // data still only in media (newest store of its line)
        public long Seq;        // position in the tracker's store order; never reused
    }

    private readonly byte* _media;
    private readonly long _length;
    private readonly int[]?[] _dir;          // per 2 MiB: page slot + 1, 0 = page clean

    // Page slots.
    private long[] _slotPage = new long[16];
    private int[] _slotDirty = new int[16];
    private byte[] _slotBusy = new byte[16];     // 1 while a deferred save into the slot's page is pending (RecordDeferred)

    // Whole pages: a page stored in full while clean keeps no per-line state. _wholeSeq[slot] is
    // then the sequence number of its first line (line i has _wholeSeq + i; 0 = not whole) and
    // _wholeIssued[slot] the write-back coverage of all its lines. Anything that needs one line's
    // state expands the page first (ExpandWholePage); bulk paths handle whole pages at once.
    private long[] _wholeSeq = new long[16];
    private long[] _wholeIssued = new long[16];
    // Persisted content of the dirty lines, a page per slot from _baselineStart on: the array is
    // pinned (it never moves) and each slot's page starts 64-byte aligned, so whole pages can be
    // saved into it with aligned non-temporal stores (SaveBaselineAndStorePage). When the slots
    // outgrow it, a larger one replaces it; a deferred save (RecordDeferred) may then still be
    // writing into the old one, outside the lock, so an old array stays alive while any slot is
    // held, and EndDeferred moves a held page's content over if its array was replaced meanwhile.
    private byte[] _baseline;
    private int _baselineStart;
    private List<byte[]>? _replacedBaselines;  // arrays replaced while slots were held
    private int _heldSlots;                    // slots held by RecordDeferred
    private LineState[] _lines = new LineState[16 * LinesPerPage];
    private int[] _freeSlots = new int[16];
    private int _freeSlotCount;
    private int _slotHighWater;
    private int _retainedSlot = None;        // a clean page that keeps its slot (see ReleaseSlot)

    // Store entries (history). Data for entry e lives at _entryData[e * 64 + offset].
    private StoreEntry[] _entries = new StoreEntry[256];
    private byte[] _entryData = new byte[256 * LineSize];
    private int _freeEntry = None;
    private int _entryHighWater;
    private long _lastSeq;                   // sequence number of the newest store
    private int _entryCount;                 // entries allocated and not freed
    private int _evictCursor;                // next page slot eviction looks at

    public LineTracker(byte* media, long length)
    {
        _baseline = AllocateBaseline(16, out _baselineStart);
        _media = media;
        _length = length;
        _dir = new int[]?[(length + (PagesPerDir << PageShift) - 1) / (PagesPerDir << PageShift)];
    }

    /// <summary>Lines with stores not yet known persistent.</summary>
    public long DirtyLineCount { get; private set; }

    /// <summary>Lines written back by the tracker itself because too much was in flight (see <see cref="MaxInFlightLines"/>).</summary>
    public long EvictedLineCount { get; private set; }

    // ---------------------------------------------------------------- stores

    /// <summary>
    /// Records a store of <paramref name="length"/> bytes at <paramref name="offset"/> and applies
    /// it to the media. With a null <paramref name="src"/> it only records it: the caller writes the
    /// new bytes to the media right after (before anyone else can look), the old ones being kept by then.
    /// </summary>
    public void Store(long offset, byte* src, int length) => Store(offset, src, length, default, out _);

    /// <summary>
    /// Records a store of <paramref name="length"/> bytes at <paramref name="offset"/> whose data
    /// the caller writes to the media itself, as <see cref="Store(long, byte*, int)"/> with no
    /// source, except that the persisted content of the clean pages it covers in full is not saved
    /// here: each such page is listed in <paramref name="pages"/> (room for every page the store
    /// covers), counted as <paramref name="count"/>, and its slot is held (no eviction takes it)
    /// until <see cref="EndDeferred"/>. The caller saves them with <see cref="SaveDeferred"/>
    /// before it writes any byte of the store, and may do both outside the region's lock as long
    /// as no one else looks at or touches the store's range meanwhile: nothing else writes a held
    /// slot's page, and if the slots outgrow the baseline array meanwhile, the old array the save
    /// writes into stays alive and <see cref="EndDeferred"/> moves the page over.
    /// </summary>
    public void RecordDeferred(long offset, int length, Span<DeferredSave> pages, out int count) =>
        Store(offset, null, length, pages, out count);

    /// <summary>
    /// Saves the persisted content of the pages <see cref="RecordDeferred"/> listed for a store of
    /// <paramref name="storeLength"/> bytes (a long one's with non-temporal stores, then a fence, so the content is in memory before the
    /// caller's next release of the region's lock). Touches no tracker state.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SaveDeferred(ReadOnlySpan<DeferredSave> pages, int storeLength)
    {
        bool stream = storeLength >= StreamRecordBytes;
        bool streamed = false;
        foreach (ref readonly var p in pages)
            streamed |= CopyPage((byte*)p.Media, (byte*)p.Baseline, stream);
        if (streamed)
            Sse.StoreFence();
    }

    /// <summary>Releases the slots <see cref="RecordDeferred"/> held (their content is saved): they may be evicted again.</summary>
    public void EndDeferred(ReadOnlySpan<DeferredSave> pages)
    {
        foreach (ref readonly var p in pages)
        {
            _slotBusy[p.Slot] = 0;
            _heldSlots--;
            // The baseline array was replaced after the record: the save went into the old one.
            byte* now = BaselineAt(p.Slot, 0);
            if ((byte*)p.Baseline != now)
                Buffer.MemoryCopy((byte*)p.Baseline, now, 1 << PageShift, 1 << PageShift);
        }
        if (_heldSlots == 0)
            _replacedBaselines = null;
    }

    private void Store(long offset, byte* src, int length, Span<DeferredSave> deferred, out int deferredCount)
    {
        deferredCount = 0;
        long end = offset + length;
        long line = offset & ~(long)(LineSize - 1);
        if (end - line <= LineSize)
        {
            // Within one line (the common small store): no page loop.
            StoreOneLine(line, (int)(offset - line), length);
            if (src != null)
                Buffer.MemoryCopy(src, _media + offset, length, length);
            if (DirtyLineCount > MaxInFlightLines || _entryCount > MaxHistoryEntries)
                Evict();
            return;
        }
        // Page by page: the bookkeeping (one table lookup per page, the persisted content of
        // each run of clean lines saved with one copy), then the page's new data, while its old
        // bytes are still in the cache. Every line's old bytes are read before the media there is
        // overwritten; a source that overlaps the destination gets its data in one copy at the
        // end instead, after all the bookkeeping, so that no page reads bytes already replaced.
        // Lines get their sequence numbers in address order, as line-by-line stores would.
        byte* dst = _media + offset;
        bool overlaps = src != null && src < dst + length && dst < src + length;
        long copied = offset;
        bool streamed = false;
        bool stream = length >= StreamBaselineBytes || (src == null && length >= StreamRecordBytes);
        while (line < end)
        {
            long pageEnd = Math.Min((line | ((1 << PageShift) - 1)) + 1, end);
            LineFor(line, create: true, out int slot);
            if (_slotDirty[slot] == 0 && (line & ((1 << PageShift) - 1)) == 0 && pageEnd - line == 1 << PageShift && line >= offset)
            {
                // A clean page stored in full: its persisted content saved and its new data
                // written in one pass, one page-level record.
                if (src != null && !overlaps)
                {
                    streamed |= SaveBaselineAndStorePage(slot, line, src + (line - offset), stream);
                    copied = pageEnd;
                }
                else if (src == null && deferred.Length != 0)
                {
                    deferred[deferredCount++] = new DeferredSave((nint)(_media + line), (nint)BaselineAt(slot, line), slot);
                    _slotBusy[slot] = 1;
                    _heldSlots++;
                    _slotDirty[slot] += LinesPerPage;
                    DirtyLineCount += LinesPerPage;
                }
                else if (src == null && stream)
                    streamed |= SaveBaselinePageStreaming(slot, line);
                else
                {
                    SaveBaseline(slot, line, LinesPerPage);
                    if (!overlaps)
                        copied = CopyNewData(src, offset, copied, pageEnd);
                }
                _wholeSeq[slot] = _lastSeq + 1;
                _wholeIssued[slot] = 0;
                _lastSeq += LinesPerPage;
                line = pageEnd;
                continue;
            }
            int first = (int)((line >> 6) & (LinesPerPage - 1));
            int count = (int)((pageEnd - line + LineSize - 1) >> 6);
            var states = _lines.AsSpan(slot * LinesPerPage + first, count);
            int run = -1;
            for (int i = 0; i < states.Length; i++, line += LineSize)
            {
                ref LineState st = ref states[i];
                // Only the first and last line of a store can be partial.
                bool whole = line >= offset && line + LineSize <= end;
                if (st.Count == 0)
                {
                    if (run < 0)
                        run = i;
                    if (whole)
                        st = new LineState { Head = FullLine, Tail = FullLine, Count = 1, FullSeq = ++_lastSeq };
                    else
                    {
                        st = new LineState { Head = None, Tail = None };
                        int inLine = (int)(Math.Max(offset, line) - line);
                        AppendEntry(ref st, inLine, (int)(Math.Min(line + LineSize, end) - line) - inLine);
                    }
                    continue;
                }
                if (run >= 0)
                {
                    SaveBaseline(slot, line - (i - run) * LineSize, i - run);
                    run = -1;
                }
                int from = (int)(Math.Max(offset, line) - line);
                AppendToDirty(ref st, line, from, (int)(Math.Min(line + LineSize, end) - line) - from);
            }
            if (run >= 0)
                SaveBaseline(slot, line - (states.Length - run) * LineSize, states.Length - run);
            if (!overlaps)
                copied = CopyNewData(src, offset, copied, pageEnd);
        }
        CopyNewData(src, offset, copied, end);
        // Non-temporal stores are weakly ordered: fence them so the saved content is in memory
        // before the region lock passes to another thread.
        if (streamed)
            Sse.StoreFence();
        if (DirtyLineCount > MaxInFlightLines || _entryCount > MaxHistoryEntries)
            Evict();
    }

    // Writes the bytes [from, to) of a store of 'src' at 'offset' to the media; returns 'to'.
    private long CopyNewData(byte* src, long offset, long from, long to)
    {
        long n = to - from;
        if (n > 0 && src != null)
            Buffer.MemoryCopy(src + (from - offset), _media + from, n, n);
        return to;
    }

    /// <summary>
    /// Writes back whole pages, going round the page slots, until a quarter of each budget is
    /// free again. Write-backs already issued by a CPU for those lines complete as no-ops at its fence.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Evict()
    {
        long lineTarget = MaxInFlightLines / 4 * 3;
        int entryTarget = MaxHistoryEntries / 4 * 3;
        for (int scanned = 0; scanned < _slotHighWater && (DirtyLineCount > lineTarget || _entryCount > entryTarget); scanned++)
        {
            int s = _evictCursor < _slotHighWater ? _evictCursor : 0;
            _evictCursor = s + 1;
            // A held slot's persisted content is still being saved (RecordDeferred).
            if (_slotDirty[s] == 0 || _slotBusy[s] != 0)
                continue;
            if (_wholeSeq[s] != 0)
            {
                DropWholePage(s);
                EvictedLineCount += LinesPerPage;
                continue;
            }
            long page = _slotPage[s] << PageShift;
            for (int i = 0; i < LinesPerPage && _slotDirty[s] > 0; i++)
            {
                ref LineState st = ref _lines[s * LinesPerPage + i];
                if (st.Count == 0)
                    continue;
                PersistPrefix(ref st, s, page + i * LineSize, st.Count);
                EvictedLineCount++;
            }
        }
    }

    private void StoreOneLine(long lineOffset, int inLine, int length)
    {
        ref LineState st = ref LineFor(lineOffset, create: true, out int slot);
        if (st.Count != 0)
        {
            AppendToDirty(ref st, lineOffset, inLine, length);
            return;
        }
        if (length == LineSize)
            st = new LineState { Head = FullLine, Tail = FullLine, Count = 1, FullSeq = ++_lastSeq };
        else
        {
            st = new LineState { Head = None, Tail = None };
            AppendEntry(ref st, inLine, length);
        }
        SaveBaseline(slot, lineOffset, 1);
    }

    // Lines [lineOffset, +lines) of one page were clean: keep their persisted content aside.
    private void SaveBaseline(int slot, long lineOffset, int lines)
    {
        Buffer.MemoryCopy(_media + lineOffset, BaselineAt(slot, lineOffset), lines * LineSize, lines * LineSize);
        _slotDirty[slot] += lines;
        DirtyLineCount += lines;
    }

    // A clean page [lineOffset, +4 KiB) stored in full from 'newData' (which does not overlap the
    // media page): each piece of the page is read, kept aside as persisted content and replaced
    // by its new bytes in the same step, so the page is walked once instead of twice (a copy
    // aside, then a copy in) and no call leaves managed code for either. In a long store
    // ('stream': at least StreamBaselineBytes) the persisted content goes aside with non-temporal
    // stores: it is read again only if the line is stored to again, partly persisted or caught by
    // a crash, so keeping it out of the cache leaves the cache to the data being copied; a short
    // store's fits in the cache, and the fence non-temporal stores need would cost more than they
    // save. Returns whether such stores were made (the caller fences them).
    //
    // Both page copies (this one and SaveBaselinePageStreaming) are compiled fully optimised at once (no tiering): at tier 0 each
    // vector load and store is a call, and a fresh server's first 256 MiB copied in over NBD took
    // about 10% longer before the tiered JIT caught up. There is no profile to gain from them.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool SaveBaselineAndStorePage(int slot, long lineOffset, byte* newData, bool stream)
    {
        byte* media = _media + lineOffset;
        byte* b = BaselineAt(slot, lineOffset);
        {
            // b is 64-byte aligned (see AllocateBaseline), as aligned non-temporal stores need.
            if (Vector512.IsHardwareAccelerated && Sse.IsSupported)
            {
                for (int i = 0; i < 1 << PageShift; i += 2 * 64)
                {
                    var old0 = Vector512.Load(media + i);
                    var old1 = Vector512.Load(media + i + 64);
                    Vector512.Load(newData + i).Store(media + i);
                    Vector512.Load(newData + i + 64).Store(media + i + 64);
                    if (stream)
                    {
                        old0.StoreAlignedNonTemporal(b + i);
                        old1.StoreAlignedNonTemporal(b + i + 64);
                    }
                    else
                    {
                        old0.Store(b + i);
                        old1.Store(b + i + 64);
                    }
                }
            }
            else if (Vector256.IsHardwareAccelerated && Sse.IsSupported)
            {
                for (int i = 0; i < 1 << PageShift; i += 2 * 32)
                {
                    var old0 = Vector256.Load(media + i);
                    var old1 = Vector256.Load(media + i + 32);
                    Vector256.Load(newData + i).Store(media + i);
                    Vector256.Load(newData + i + 32).Store(media + i + 32);
                    if (stream)
                    {
                        old0.StoreAlignedNonTemporal(b + i);
                        old1.StoreAlignedNonTemporal(b + i + 32);
                    }
                    else
                    {
                        old0.Store(b + i);
                        old1.Store(b + i + 32);
                    }
                }
            }
            else
            {
                Buffer.MemoryCopy(media, b, 1 << PageShift, 1 << PageShift);
                Buffer.MemoryCopy(newData, media, 1 << PageShift, 1 << PageShift);
                stream = false;
            }
        }
        _slotDirty[slot] += LinesPerPage;
        DirtyLineCount += LinesPerPage;
        return stream;
    }

    // A clean page [lineOffset, +4 KiB) whose new data comes later (a record-only store): its
    // persisted content is kept aside with non-temporal stores (see SaveBaselineAndStorePage for
    // why). Returns whether such stores were made (the caller fences them).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool SaveBaselinePageStreaming(int slot, long lineOffset)
    {
        bool streamed = CopyPage(_media + lineOffset, BaselineAt(slot, lineOffset), stream: true);
        _slotDirty[slot] += LinesPerPage;
        DirtyLineCount += LinesPerPage;
        return streamed;
    }

    // Copies the 4 KiB page at 'media' to 'b' (64-byte aligned: see AllocateBaseline), with
    // non-temporal stores if 'stream' and the machine has them; returns whether it used them.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool CopyPage(byte* media, byte* b, bool stream)
    {
        if (stream && Vector512.IsHardwareAccelerated && Sse.IsSupported)
        {
            for (int i = 0; i < 1 << PageShift; i += 2 * 64)
            {
                Vector512.Load(media + i).StoreAlignedNonTemporal(b + i);
                Vector512.Load(media + i + 64).StoreAlignedNonTemporal(b + i + 64);
            }
            return true;
        }
        if (stream && Vector256.IsHardwareAccelerated && Sse.IsSupported)
        {
            for (int i = 0; i < 1 << PageShift; i += 2 * 32)
            {
                Vector256.Load(media + i).StoreAlignedNonTemporal(b + i);
                Vector256.Load(media + i + 32).StoreAlignedNonTemporal(b + i + 32);
            }
            return true;
        }
        Buffer.MemoryCopy(media, b, 1 << PageShift, 1 << PageShift);
        return false;
    }

    private void AppendToDirty(ref LineState st, long lineOffset, int inLine, int length)
    {
        if (st.Tail == FullLine)
            Materialize(ref st);
        // The previous newest store's bytes are about to be overwritten: copy them aside.
        ref StoreEntry prev = ref _entries[st.Tail];
        if (prev.Live)
        {
            fixed (byte* d = &_entryData[st.Tail * LineSize + prev.Offset])
                Buffer.MemoryCopy(_media + lineOffset + prev.Offset, d, prev.Length, prev.Length);
            prev.Live = false;
        }
        AppendEntry(ref st, inLine, length);
    }

    private void AppendEntry(ref LineState st, int inLine, int length)
    {
        int e = AllocEntry();
        ref StoreEntry entry = ref _entries[e];
        entry.Next = None;
        entry.Offset = (byte)inLine;
        entry.Length = (byte)length;
        entry.Live = true;
        entry.Seq = ++_lastSeq;
        if (st.Tail == None)
            st.Head = e;
        else
            _entries[st.Tail].Next = e;
        st.Tail = e;
        st.Count++;
    }

    // A line whose only store covered it whole has no entry; give it one before a second store.
    private void Materialize(ref LineState st)
    {
        int e = AllocEntry();
        _entries[e] = new StoreEntry { Next = None, Offset = 0, Length = LineSize, Live = true, Seq = st.FullSeq };
        st.Head = st.Tail = e;
    }

    // ---------------------------------------------------------------- write-back and fences

    /// <summary>
    /// clwb / clflushopt / a non-temporal store's write-back: the line's current stores become
    /// persistent at the issuing CPU's next fence. Returns the sequence number of the newest
    /// store the write-back covers, for the caller to queue with the line and pass to
    /// <see cref="CompleteWriteBack"/>; 0 if the line was clean (no write-back started).
    /// <paramref name="writesBack"/> is false when an earlier write-back (by any CPU) already
    /// covers every store of the line: the cache holds it clean, so nothing goes to the DIMM,
    /// though this CPU's fence still completes the stores as its own.
    /// </summary>
    public long IssueWriteBack(long lineOffset, out bool writesBack)
    {
        ref LineState st = ref LineFor(lineOffset, create: false, out _);
        writesBack = false;
        if (Unsafe.IsNullRef(ref st) || st.Count == 0)
            return 0;
        long newest = st.Tail == FullLine ? st.FullSeq : _entries[st.Tail].Seq;
        writesBack = st.Issued < newest;
        st.Issued = Math.Max(st.Issued, newest);
        return newest;
    }

    /// <summary>
    /// Write-back of the lines from <paramref name="lineOffset"/> on, stopping at the first line
    /// whose state differs from the first's (clean; dirty with stores no write-back covers yet;
    /// dirty with every store covered by an earlier write-back) or after <paramref name="maxLines"/>:
    /// returns how many lines the run holds and, in <paramref name="covered"/>, 0 if they were
    /// clean, else the sequence number to pass to <see cref="CompleteWriteBackRun"/> (every store
    /// they hold is at or below it, every later store above it). <paramref name="writesBack"/>
    /// tells which of the two dirty states the run is in, as <see cref="IssueWriteBack"/>'s.
    /// </summary>
    public long IssueWriteBackRun(long lineOffset, long maxLines, out long covered, out bool writesBack)
    {
        long n = 0;
        long line = lineOffset;
        bool dirty = false;
        writesBack = false;
        covered = 0;
        while (n < maxLines)
        {
            long page = line >> PageShift;
            int[]? dir = _dir[page >> 9];
            int inPage = (int)((line >> 6) & (LinesPerPage - 1));
            int entry = dir == null ? 0 : dir[(int)(page & (PagesPerDir - 1))];
            if (entry == 0)
            {
                // Clean page (or whole directory): nothing to write back in it.
                if (n > 0 && dirty)
                    break;
                long span = dir == null
                    ? (((long)PagesPerDir << PageShift) - (line & (((long)PagesPerDir << PageShift) - 1))) >> 6
                    : LinesPerPage - inPage;
                span = Math.Min(span, maxLines - n);
                n += span;
                line += span * LineSize;
                continue;
            }
            int lim = (int)Math.Min(LinesPerPage - inPage, maxLines - n);
            if (_wholeSeq[entry - 1] != 0)
            {
                if (inPage == 0 && lim == LinesPerPage)
                {
                    // Every line of a whole page is dirty; line i's store is _wholeSeq + i.
                    bool pageWritesBack = _wholeIssued[entry - 1] < _wholeSeq[entry - 1] + LinesPerPage - 1;
                    if (n > 0 && (!dirty || pageWritesBack != writesBack))
                        goto done;
                    dirty = true;
                    writesBack = pageWritesBack;
                    _wholeIssued[entry - 1] = _lastSeq;
                    n += LinesPerPage;
                    line += LinesPerPage * LineSize;
                    continue;
                }
                ExpandWholePage(entry - 1);
            }
            var states = _lines.AsSpan((entry - 1) * LinesPerPage + inPage, lim);
            for (int i = 0; i < states.Length; i++)
            {
                ref LineState st = ref states[i];
                bool d = st.Count != 0;
                bool w = d && st.Issued < (st.Tail == FullLine ? st.FullSeq : _entries[st.Tail].Seq);
                if (n == 0)
                {
                    dirty = d;
                    writesBack = w;
                }
                else if (d != dirty || w != writesBack)
                    goto done;
                if (d)
                    st.Issued = _lastSeq;
                n++;
            }
            line += lim * LineSize;
        }
    done:
        if (dirty)
            covered = _lastSeq;
        return n;
    }

    /// <summary>
    /// Completes a write-back (called by the issuing CPU's fence): every store of the line up to
    /// sequence number <paramref name="covered"/> is persistent. Write-backs by other CPUs, and
    /// stores made after the issue, are unaffected.
    /// </summary>
    public void CompleteWriteBack(long lineOffset, long covered)
    {
        ref LineState st = ref LineFor(lineOffset, create: false, out int slot);
        if (Unsafe.IsNullRef(ref st) || st.Count == 0)
            return;
        int count = CoveredCount(ref st, covered);
        if (count > 0)
            PersistPrefix(ref st, slot, lineOffset, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CoveredCount(ref LineState st, long covered)
    {
        if (st.Head == FullLine)
            return st.FullSeq <= covered ? 1 : 0;
        int count = 0;
        for (int e = st.Head; e != None && _entries[e].Seq <= covered; e = _entries[e].Next)
            count++;
        return count;
    }

    /// <summary>Completes the write-backs of the lines [<paramref name="lineOffset"/>, +<paramref name="lines"/>) issued with <paramref name="covered"/> (the issuing CPU's fence).</summary>
    public void CompleteWriteBackRun(long lineOffset, long lines, long covered)
    {
        long line = lineOffset;
        while (lines > 0)
        {
            long page = line >> PageShift;
            int inPage = (int)((line >> 6) & (LinesPerPage - 1));
            int lim = (int)Math.Min(LinesPerPage - inPage, lines);
            int[]? dir = _dir[page >> 9];
            int entry = dir == null ? 0 : dir[(int)(page & (PagesPerDir - 1))];
            if (entry != 0 && _wholeSeq[entry - 1] != 0)
            {
                int slot = entry - 1;
                long first = _wholeSeq[slot];
                if (inPage == 0 && lim == LinesPerPage && first + LinesPerPage - 1 <= covered)
                {
                    DropWholePage(slot);
                    entry = 0;
                }
                else if (first > covered)
                    entry = 0;      // none of its stores is covered
                else
                    ExpandWholePage(slot);
            }
            if (entry != 0)
            {
                int slot = entry - 1;
                var states = _lines.AsSpan(slot * LinesPerPage + inPage, lim);
                int persisted = 0;
                for (int i = 0; i < states.Length; i++)
                {
                    ref LineState st = ref states[i];
                    if (st.Count == 0)
                        continue;
                    if (st.Head == FullLine)
                    {
                        // The common case: one whole-line store, written back in full.
                        if (st.FullSeq <= covered)
                        {
                            st = default;
                            persisted++;
                        }
                        continue;
                    }
                    int count = CoveredCount(ref st, covered);
                    if (count == 0)
                        continue;
                    if (count >= st.Count)
                    {
                        FreeChain(st.Head);
                        st = default;
                        persisted++;
                    }
                    else
                        PersistPrefix(ref st, slot, line + i * LineSize, count);
                }
                if (persisted > 0)
                {
                    DirtyLineCount -= persisted;
                    if ((_slotDirty[slot] -= persisted) == 0)
                        ReleaseSlot(slot);
                }
            }
            line += lim * LineSize;
            lines -= lim;
        }
    }

    /// <summary>
    /// clflush: the line is written back synchronously; every store to it is persistent. Returns
    /// whether the line held stores. <paramref name="writesBack"/> is false when it held none, or
    /// when an earlier write-back (by any CPU, not yet fenced) already covers every store of it:
    /// the cache holds it clean, so the clflush only invalidates it and nothing goes to the DIMM.
    /// </summary>
    public bool PersistNow(long lineOffset, out bool writesBack)
    {
        ref LineState st = ref LineFor(lineOffset, create: false, out int slot);
        writesBack = false;
        if (Unsafe.IsNullRef(ref st) || st.Count == 0)
            return false;
        writesBack = st.Issued < (st.Tail == FullLine ? st.FullSeq : _entries[st.Tail].Seq);
        PersistPrefix(ref st, slot, lineOffset, st.Count);
        return true;
    }

    /// <summary>Marks every line of the range persistent (a fused store+flush+fence of the whole range).</summary>
    public void PersistRange(long offset, long length)
    {
        if (DirtyLineCount == 0)
            return;
        long end = offset + length;
        for (long line = offset & ~(long)(LineSize - 1); line < end;)
        {
            int[]? dir = _dir[line >> (PageShift + 9)];
            int slot = dir == null ? 0 : dir[(int)((line >> PageShift) & (PagesPerDir - 1))];
            if (slot == 0)
            {
                // Whole page (or directory) clean: skip it.
                long skip = dir == null ? (PagesPerDir << PageShift) : (1 << PageShift);
                line = (line & ~(skip - 1)) + skip;
                continue;
            }
            if (_wholeSeq[slot - 1] != 0 && (line & ((1 << PageShift) - 1)) == 0 && end - line >= 1 << PageShift)
            {
                DropWholePage(slot - 1);
                line += 1 << PageShift;
                continue;
            }
            PersistNow(line, out _);
            line += LineSize;
        }
    }

    private void PersistPrefix(ref LineState st, int slot, long lineOffset, int count)
    {
        if (count >= st.Count)
        {
            // Everything persisted: the media already holds it.
            FreeChain(st.Head);
            st = default;
            DirtyLineCount--;
            if (--_slotDirty[slot] == 0)
                ReleaseSlot(slot);
            return;
        }

        // Apply the first `count` stores to the persisted content and drop them from the history.
        byte* b = BaselineAt(slot, lineOffset);
        int e = st.Head;
        for (int i = 0; i < count; i++)
        {
            ref StoreEntry entry = ref _entries[e];
            // A store that is not the newest is never live (it was copied aside when overtaken).
            new ReadOnlySpan<byte>(_entryData, e * LineSize + entry.Offset, entry.Length).CopyTo(new Span<byte>(b + entry.Offset, entry.Length));
            int next = entry.Next;
            FreeEntry(e);
            e = next;
        }
        st.Head = e;
        st.Count -= count;
    }

    // ---------------------------------------------------------------- crash and inspection

    /// <summary>
    /// Power failure: each dirty line is given the content <paramref name="choose"/> picks
    /// (its number of 8-byte pieces applied, from 0 = persisted content to all), written to
    /// the media; afterwards nothing is in flight.
    /// </summary>
    public void Crash(long baseAddress, Func<InFlightLine, int> choose)
    {
        foreach (var line in Snapshot(baseAddress))
        {
            int pieces = choose(line);
            var content = line.ContentAfterPieces(pieces);
            long off = line.PhysicalAddress - baseAddress;
            fixed (byte* c = content)
                Buffer.MemoryCopy(c, _media + off, LineSize, LineSize);
        }
        Reset();
    }

    /// <summary>Forgets all in-flight state without touching the media (everything persisted).</summary>
    public void Reset()
    {
        _retainedSlot = None;
        Array.Clear(_dir);
        _freeSlotCount = 0;
        _slotHighWater = 0;
        _freeEntry = None;
        _entryHighWater = 0;
        _entryCount = 0;
        _evictCursor = 0;
        Array.Clear(_lines);
        Array.Clear(_slotDirty);
        Array.Clear(_slotBusy);
        _heldSlots = 0;
        _replacedBaselines = null;
        Array.Clear(_wholeSeq);
        DirtyLineCount = 0;
    }

    /// <summary>The in-flight lines, in address order, with addresses offset by <paramref name="baseAddress"/>.</summary>
    public List<InFlightLine> Snapshot(long baseAddress)
    {
        for (int s = 0; s < _slotHighWater; s++)
            if (_wholeSeq[s] != 0)
                ExpandWholePage(s);
        var slots = new List<int>();
        for (int s = 0; s < _slotHighWater; s++)
            if (_slotDirty[s] > 0)
                slots.Add(s);
        slots.Sort((a, b) => _slotPage[a].CompareTo(_slotPage[b]));

        var result = new List<InFlightLine>();
        foreach (int s in slots)
        {
            for (int i = 0; i < LinesPerPage; i++)
            {
                ref LineState st = ref _lines[s * LinesPerPage + i];
                if (st.Count == 0)
                    continue;
                long lineOffset = (_slotPage[s] << PageShift) + i * LineSize;
                var persisted = new byte[LineSize];
                new ReadOnlySpan<byte>(BaselineAt(s, i * LineSize), LineSize).CopyTo(persisted);
                var stores = new LineStore[st.Count];
                if (st.Head == FullLine)
                {
                    stores[0] = new LineStore(0, new ReadOnlySpan<byte>(_media + lineOffset, LineSize).ToArray());
                    result.Add(new InFlightLine(baseAddress + lineOffset, persisted, stores, st.FullSeq <= st.Issued ? 1 : 0));
                    continue;
                }
                int e = st.Head, issued = 0;
                for (int k = 0; k < st.Count; k++)
                {
                    ref StoreEntry entry = ref _entries[e];
                    if (entry.Seq <= st.Issued)
                        issued++;
                    var data = new byte[entry.Length];
                    if (entry.Live)
                        new ReadOnlySpan<byte>(_media + lineOffset + entry.Offset, entry.Length).CopyTo(data);
                    else
                        Buffer.BlockCopy(_entryData, e * LineSize + entry.Offset, data, 0, entry.Length);
                    stores[k] = new LineStore(entry.Offset, data);
                    e = entry.Next;
                }
                result.Add(new InFlightLine(baseAddress + lineOffset, persisted, stores, issued));
            }
        }
        return result;
    }

    /// <summary>Copies the persisted content of [offset, offset+length) (what a crash under the strict policy would leave) into <paramref name="dst"/>.</summary>
    public void ReadPersisted(long offset, Span<byte> dst)
    {
        new ReadOnlySpan<byte>(_media + offset, dst.Length).CopyTo(dst);
        if (DirtyLineCount == 0)
            return;
        long end = offset + dst.Length;
        for (long line = offset & ~(long)(LineSize - 1); line < end; line += LineSize)
        {
            ref LineState st = ref LineFor(line, create: false, out int slot);
            if (Unsafe.IsNullRef(ref st) || st.Count == 0)
                continue;
            long from = Math.Max(line, offset), to = Math.Min(line + LineSize, end);
            var src = new ReadOnlySpan<byte>(BaselineAt(slot, line) + (from - line), (int)(to - from));
            src.CopyTo(dst.Slice((int)(from - offset)));
        }
    }

    /// <summary>True if the line holds stores not yet persistent.</summary>
    public bool IsDirty(long lineOffset)
    {
        ref LineState st = ref LineFor(lineOffset, create: false, out _);
        return !Unsafe.IsNullRef(ref st) && st.Count != 0;
    }

    // ---------------------------------------------------------------- tables

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* BaselineAt(int slot, long lineOffset) =>
        (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_baseline)) + _baselineStart + ((long)slot << PageShift) + (lineOffset & ((1 << PageShift) - 1));

    // A pinned baseline array of 'slots' pages, and where its first 64-byte aligned byte is.
    private static byte[] AllocateBaseline(int slots, out int start)
    {
        var a = GC.AllocateArray<byte>((slots << PageShift) + LineSize, pinned: true);
        start = (int)((LineSize - ((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(a)) & (LineSize - 1))) & (LineSize - 1));
        return a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref LineState LineFor(long lineOffset, bool create, out int slot)
    {
        long page = lineOffset >> PageShift;
        int[]? dir = _dir[page >> 9];
        if (dir == null)
        {
            if (!create)
            {
                slot = None;
                return ref Unsafe.NullRef<LineState>();
            }
            dir = _dir[page >> 9] = new int[PagesPerDir];
        }
        ref int entry = ref dir[(int)(page & (PagesPerDir - 1))];
        if (entry == 0)
        {
            if (!create)
            {
                slot = None;
                return ref Unsafe.NullRef<LineState>();
            }
            entry = AllocSlot(page) + 1;
        }
        slot = entry - 1;
        if (_wholeSeq[slot] != 0)
            ExpandWholePage(slot);
        return ref _lines[slot * LinesPerPage + (int)((lineOffset >> 6) & (LinesPerPage - 1))];
    }

    private int AllocSlot(long page)
    {
        int slot;
        if (_freeSlotCount > 0)
            slot = _freeSlots[--_freeSlotCount];
        else
        {
            slot = _slotHighWater++;
            if (slot == _slotPage.Length)
            {
                int n = _slotPage.Length * 2;
                Array.Resize(ref _slotPage, n);
                Array.Resize(ref _slotDirty, n);
                Array.Resize(ref _slotBusy, n);
                var baseline = AllocateBaseline(n, out int start);
                Buffer.BlockCopy(_baseline, _baselineStart, baseline, start, slot << PageShift);
                if (_heldSlots > 0)
                    (_replacedBaselines ??= []).Add(_baseline);
                _baseline = baseline;
                _baselineStart = start;
                Array.Resize(ref _wholeSeq, n);
                Array.Resize(ref _wholeIssued, n);
                Array.Resize(ref _lines, n * LinesPerPage);
                Array.Resize(ref _freeSlots, n);
            }
        }
        _slotPage[slot] = page;
        _slotDirty[slot] = 0;
        _wholeSeq[slot] = 0;
        return slot;
    }

    /// <summary>Gives every line of a whole page its own state (the page-level record goes away).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ExpandWholePage(int slot)
    {
        long first = _wholeSeq[slot], issued = _wholeIssued[slot];
        var states = _lines.AsSpan(slot * LinesPerPage, LinesPerPage);
        for (int i = 0; i < states.Length; i++)
            states[i] = new LineState { Head = FullLine, Tail = FullLine, Count = 1, FullSeq = first + i, Issued = issued };
        _wholeSeq[slot] = 0;
    }

    /// <summary>Every line of a whole page is persistent: the media already holds it.</summary>
    private void DropWholePage(int slot)
    {
        _wholeSeq[slot] = 0;
        DirtyLineCount -= LinesPerPage;
        _slotDirty[slot] -= LinesPerPage;
        ReleaseSlot(slot);
    }

    // A page whose last dirty line persisted keeps its slot until another page's last line does:
    // a stream of small persists within one page (a log append) then does not return the slot
    // to the pool and take it back on every store. At most one clean page is retained.
    private void ReleaseSlot(int slot)
    {
        int retained = _retainedSlot;
        if (retained != None && retained != slot && _slotDirty[retained] == 0)
            FreeSlot(retained);
        _retainedSlot = slot;
    }

    private void FreeSlot(int slot)
    {
        long page = _slotPage[slot];
        _dir[page >> 9]![(int)(page & (PagesPerDir - 1))] = 0;
        _freeSlots[_freeSlotCount++] = slot;
    }

    private int AllocEntry()
    {
        _entryCount++;
        if (_freeEntry != None)
        {
            int e = _freeEntry;
            _freeEntry = _entries[e].Next;
            return e;
        }
        if (_entryHighWater == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
            Array.Resize(ref _entryData, _entries.Length * LineSize);
        }
        return _entryHighWater++;
    }

    private void FreeEntry(int e)
    {
        _entryCount--;
        _entries[e].Next = _freeEntry;
        _freeEntry = e;
    }

    private void FreeChain(int e)
    {
        while (e >= 0)
        {
            int next = _entries[e].Next;
            FreeEntry(e);
            e = next;
        }
    }
}

/// <summary>A clean page a record-only store covers in full whose persisted content is still to be saved (see <see cref="LineTracker.RecordDeferred"/>).</summary>
internal readonly record struct DeferredSave(nint Media, nint Baseline, int Slot);
