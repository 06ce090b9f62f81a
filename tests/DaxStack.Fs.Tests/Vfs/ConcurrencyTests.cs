using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class ConcurrencyTests : VfsTestBase
{
    private const int Threads = 4;

    public ConcurrencyTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void ThreadsWritingTheirOwnFilesEachGetTheirOwnBytesBack()
    {
        Parallel.For(0, Threads, t =>
        {
            var data = Pattern(64 << 10, t);
            int fd = Root.Open($"/f{t}", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
            for (int off = 0; off < data.Length; off += 1000)
            {
                Root.Pwrite(fd, data.AsSpan(off, Math.Min(1000, data.Length - off)), off);
            }

            Root.Close(fd);
        });

        Assert.Multiple(() =>
        {
            for (int t = 0; t < Threads; t++)
            {
                Assert.That(ReadFile(Root, $"/f{t}"), Is.EqualTo(Pattern(64 << 10, t)), $"file {t}");
            }
        });
    }

    [Test]
    public void AppendsFromSeveralThreadsToOneFileAreNeitherLostNorTorn()
    {
        const int records = 200;
        const int recordSize = 100;
        Parallel.For(0, Threads, t =>
        {
            int fd = Root.Open("/log", OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_APPEND, Mode644);
            var record = new byte[recordSize];
            for (int i = 0; i < records; i++)
            {
                record.AsSpan().Fill((byte)(t + 1));
                Root.Write(fd, record);
            }

            Root.Close(fd);
        });

        var log = ReadFile(Root, "/log");
        Assert.That(log, Has.Length.EqualTo(Threads * records * recordSize));
        var counts = new int[Threads + 1];
        for (int r = 0; r < log.Length; r += recordSize)
        {
            var rec = log.AsSpan(r, recordSize);
            Assert.That(rec.IndexOfAnyExcept(rec[0]), Is.EqualTo(-1), $"record at {r} is torn");
            counts[rec[0]]++;
        }

        Assert.That(counts.Skip(1), Is.All.EqualTo(records));
    }

    [Test]
    public void ConcurrentNamespaceChangesInOneDirectoryKeepItConsistent()
    {
        Root.Mkdir("/d", Mode755);
        Parallel.For(0, Threads, t =>
        {
            for (int i = 0; i < 50; i++)
            {
                string a = $"/d/t{t}-{i}";
                Root.Close(Root.Open(a, OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644));
                Root.Rename(a, a + "r");
                Root.Mkdir(a + "dir", Mode755);
                if (i % 2 == 0)
                {
                    Root.Unlink(a + "r");
                    Root.Rmdir(a + "dir");
                }
            }
        });

        var names = Names(Root, "/d");
        Assert.Multiple(() =>
        {
            Assert.That(names, Has.Length.EqualTo(2 + (Threads * 25 * 2)));
            Assert.That(Root.Stat("/d").Nlink, Is.EqualTo(2u + (Threads * 25)));
        });
    }

    [Test]
    public void ReadersSeeEitherTheOldOrTheNewBlockNeverAMixture()
    {
        const int block = 4096;
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Pwrite(fd, new byte[block], 0);
        bool torn = false;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            var buf = new byte[block];
            for (int i = 0; i < 2000; i++)
            {
                buf.AsSpan().Fill((byte)i);
                Root.Pwrite(fd, buf, 0);
            }

            stop.Cancel();
        });
        var reader = Task.Run(() =>
        {
            var buf = new byte[block];
            while (!stop.IsCancellationRequested)
            {
                Root.Pread(fd, buf, 0);
                if (buf.AsSpan().IndexOfAnyExcept(buf[0]) >= 0)
                {
                    torn = true;
                }
            }
        });
        Task.WaitAll(writer, reader);
        Assert.That(torn, Is.False);
    }
}
