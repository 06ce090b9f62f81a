namespace DaxStack.Device.Cost;

/// <summary>
/// A CPU issuing a run of write-backs, as the cost model times it: the CPU's clock, write-back
/// count and latest landing, taken from its <see cref="CpuCostState"/> for the run and given
/// back by <see cref="Finish"/>, with what every line of the run costs. While a DIMM times the
/// lines of its stripe, that DIMM's time and ingest state ride along too.
/// </summary>
/// <remarks>
/// A struct the DIMMs update in place, so that a run over many stripes (small interleaves)
/// touches the CPU's state once, not once per stripe; nothing else reads that state meanwhile
/// (the region lock is held, and a CPU belongs to one thread).
/// </remarks>
internal struct WriteBackStream
{
    /// <summary>The CPU's slot ring (<see cref="CpuCostState.SlotFreeAt"/>).</summary>
    public readonly double[] SlotFreeAt;

    /// <summary>Write-backs the CPU keeps in flight (<see cref="CostProfile.WriteBackSlots"/>).</summary>
    public readonly int Slots;

    /// <summary>Time from leaving the CPU to arriving at the DIMM (ns).</summary>
    public readonly double LatencyNs;

    /// <summary>Media time of one unit (ns); 0 if allocations take none.</summary>
    public readonly double UnitNs;

    /// <summary>What the instruction costs the CPU per line (ns, at least 0).</summary>
    public readonly double IssueNs;

    /// <summary>Whether the CPU waits for each line to land (clflush).</summary>
    public readonly bool Serialising;

    /// <summary>The CPU's clock.</summary>
    public double Clock;

    /// <summary>Write-backs the CPU has issued (<see cref="CpuCostState.WriteBacksIssued"/>).</summary>
    public long Issued;

    /// <summary>Latest landing of the CPU's write-backs (<see cref="CpuCostState.WriteBackDoneAt"/>).</summary>
    public double DoneAt;

    /// <summary>The DIMM's time, while it times its stripe.</summary>
    public double Now;

    /// <summary>When the DIMM may take the next line in, while it times its stripe.</summary>
    public double IngestFreeAt;

    /// <summary>Whether a line of the stripe did not lag and the CPU does not wait for landings.</summary>
    public bool Steady;

    /// <summary>Lines of the stripe timed since it became steady.</summary>
    public int SteadyLines;

    /// <summary>The DIMM line just past the stripe being timed.</summary>
    public long StripeEnd;

    /// <summary>Whether the rest of the stripe is timed unit by unit (the ingest-bound regime; see <see cref="DimmWriteState"/>).</summary>
    public bool Fast;

    /// <summary>The first line of the stripe timed unit by unit, and the write-backs issued before it.</summary>
    public long FastLine0, FastIssued0;

    /// <summary>The CPU's clock when the stripe began to be timed unit by unit.</summary>
    public double FastClock0;

    /// <summary>The latest line of the stripe whose landing is known, and that landing, while timed unit by unit.</summary>
    public long AnchorLine;

    /// <summary>The landing of <see cref="AnchorLine"/>.</summary>
    public double AnchorT;

    /// <summary>The state of <paramref name="cpu"/> about to issue write-backs that each cost what the other arguments say.</summary>
    public WriteBackStream(CpuCostState cpu, int slots, double latencyNs, double unitNs, double issueNs, bool serialising)
    {
        SlotFreeAt = cpu.SlotFreeAt;
        Slots = slots;
        LatencyNs = latencyNs;
        UnitNs = unitNs;
        IssueNs = issueNs;
        Serialising = serialising;
        Clock = cpu.Clock.Nanoseconds;
        Issued = cpu.WriteBacksIssued;
        DoneAt = cpu.WriteBackDoneAt;
    }

    /// <summary>Gives the CPU's state back to <paramref name="cpu"/> at the end of the run.</summary>
    public readonly void Finish(CpuCostState cpu)
    {
        cpu.Clock.AdvanceTo(Clock);
        cpu.WriteBacksIssued = Issued;
        cpu.WriteBackDoneAt = DoneAt;
    }
}
