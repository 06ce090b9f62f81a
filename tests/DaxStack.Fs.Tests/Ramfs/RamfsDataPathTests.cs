using DaxStack.Fs.Ramfs;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Ramfs;

public class RamfsDataPathTests : RamfsTestBase
{
    [Test]
    public void ReadsAndOverwritesOfAllocatedPagesAllocateNoManagedMemory()
    {
        var p = Mount(new RamfsOptions());
        int fd = p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        var buffer = new byte[16 << 10];
        p.Pwrite(fd, buffer, 0);

        void Round(int offset, int overwrite, int written)
        {
            p.Pread(fd, buffer, offset);
            p.Pwrite(fd, buffer.AsSpan(0, overwrite), offset == 0 ? 0 : 4000);
            p.Lseek(fd, 0, SeekWhence.SEEK_SET);
            p.Read(fd, buffer);
            p.Write(fd, buffer.AsSpan(0, written));
        }

        // Warm up past the tiered JIT's call counts (30, then 30 more), whose promotions may
        // allocate on the calling thread once.
        for (int i = 0; i < 200; i++)
            Round(0, buffer.Length, 4096);

        // The best of three measurements: a one-off allocation of the runtime's (a method's tier-up
        // reached during the loop) cannot happen three times over; one of the data path's would.
        long best = long.MaxValue;
        for (int attempt = 0; attempt < 3 && best != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
                Round(100, 8192, 100);
            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.That(best, Is.Zero);
    }
}
