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

        // Warm up: JIT and the lock's per-thread state.
        for (int i = 0; i < 10; i++)
        {
            p.Pread(fd, buffer, 0);
            p.Pwrite(fd, buffer, 0);
            p.Lseek(fd, 0, SeekWhence.SEEK_SET);
            p.Read(fd, buffer);
            p.Write(fd, buffer.AsSpan(0, 4096));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            p.Pread(fd, buffer, 100);
            p.Pwrite(fd, buffer.AsSpan(0, 8192), 4000);
            p.Lseek(fd, 0, SeekWhence.SEEK_SET);
            p.Read(fd, buffer);
            p.Write(fd, buffer.AsSpan(0, 100));
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
