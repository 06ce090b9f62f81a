using DaxStack.Device.Cost;

namespace DaxStack.Device.Tests.Cost;

public class WriteCombiningReferenceTests
{
    [TestCase(1, 1)]
    [TestCase(3, 2)]
    [TestCase(64, 3)]
    [TestCase(20000, 4)]
    [TestCase(70000, 5)]
    [TestCase(16384, 6)]
    public void MediaBytesFollowAFifoBufferOfUnits(int capacity, int seed)
    {
        var rng = new Random(seed);
        var profile = CostProfiles.OptaneAdr with { Name = "fifo", MediaGranularity = 256, WriteCombiningBytes = 256 * capacity, InterleaveBytes = 1 << 30 };
        var model = new CostModel(profile);
        var cpu = new CpuCostState();
        var fifo = new Queue<long>();
        var held = new HashSet<long>();
        long expected = 0;
        int direct = (int)Math.Min(1 << 16, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity) * 4);
        var pool = Enumerable.Range(0, capacity + capacity / 2 + 3).Select(i => rng.Next(3) == 0 ? (long)i * direct + rng.Next(3) : rng.Next(1 << 20)).ToArray();
        for (int op = 0; op < 20_000; op++)
        {
            long unit;
            int lines = 1;
            if (rng.Next(50) == 0)
            {
                unit = pool[rng.Next(pool.Length)];
                lines = 1 + rng.Next(capacity * 4 * 2);
            }
            else
                unit = pool[rng.Next(pool.Length)];
            for (long u = unit; u < unit + (lines + 3) / 4; u++)
            {
                if (held.Contains(u))
                    continue;
                expected += 256;
                if (fifo.Count == capacity)
                    held.Remove(fifo.Dequeue());
                fifo.Enqueue(u);
                held.Add(u);
            }
            model.NtStore(cpu, unit * 256, lines * 64);
            if (model.MediaBytesWritten != expected)
                Assert.Fail($"op {op}: unit {unit} lines {lines}: media {model.MediaBytesWritten}, expected {expected}");
            if (op % 64 == 0)
                model.Fence(cpu, FenceKind.Sfence);
        }
    }
}
