using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Crash;

/// <summary>The crash suite's workloads, one per kind of namespace or data change, each with fsyncs in the middle and at the end.</summary>
/// <remarks>Models the workload mix of fstests' generic/ crash tests (fsync after create, rename, truncate, fallocate, link/unlink, mkdir/rmdir and reflink).</remarks>
internal static class CrashWorkloads
{
    private const int Block = 4096;

    public static IEnumerable<CrashWorkload> All()
    {
        yield return new("create-write-fsync", m =>
        {
            var a = m.Create("/a");
            m.Write(a, 0, 3 * Block + 100, 1);
            m.Fsync(a);
            var b = m.Create("/b");
            m.LogWorker();
            m.Write(b, 0, 100, 2);
            m.Write(a, 3 * Block + 100, 20 * Block, 3);
            m.Fsync(b);
            m.Write(a, Block, 500, 4);
            m.Fsync(a);
            var c = m.Create("/c");
            m.Write(c, 0, 70 * Block, 5);
            m.Fsync(c);
            m.Close(b);
        });
        yield return new("rename", m =>
        {
            var d = m.Mkdir("/d");
            var a = m.Create("/a");
            m.Write(a, 0, 2 * Block, 6);
            var b = m.Create("/d/b");
            m.Write(b, 0, 3000, 7);
            m.Fsync(a);
            m.Fsync(b);
            m.Rename("/a", "/d/a2");
            m.LogWorker();
            m.Fsync(a);
            m.Rename("/d/b", "/d/a2");
            m.Fsync(d);
            m.Fsync(a);
            var c = m.Create("/c");
            m.Rename("/d", "/e");
            m.Fsync(0);
            m.Write(c, 0, 5 * Block, 8);
            m.Fsync(c);
        });
        yield return new("truncate", m =>
        {
            var a = m.Create("/a");
            m.Write(a, 0, 40 * Block, 9);
            m.Fsync(a);
            m.Truncate(a, 10 * Block + 77);
            m.LogWorker();
            m.Fsync(a);
            m.Truncate(a, 30 * Block);
            m.Write(a, 20 * Block, 300, 10);
            m.Fsync(a);
            m.Truncate(a, 0);
            m.Fsync(a);
            m.Write(a, 5 * Block, Block, 11);
            m.Fsync(a);
        });
        yield return new("fallocate", m =>
        {
            var a = m.Create("/a");
            m.Fallocate(a, FallocateFlags.None, 0, 16 * Block);
            m.Fsync(a);
            m.Write(a, 0, 16 * Block, 12);
            m.Fsync(a);
            m.Fallocate(a, FallocateFlags.FALLOC_FL_PUNCH_HOLE | FallocateFlags.FALLOC_FL_KEEP_SIZE, 4 * Block, 4 * Block);
            m.LogWorker();
            m.Fsync(a);
            m.Fallocate(a, FallocateFlags.FALLOC_FL_ZERO_RANGE, 10 * Block + 100, 10 * Block);
            m.Fsync(a);
            m.Fallocate(a, FallocateFlags.FALLOC_FL_KEEP_SIZE, 30 * Block, 8 * Block);
            m.Write(a, 2 * Block, 10, 13);
            m.Fsync(a);
        });
        yield return new("link-unlink", m =>
        {
            var a = m.Create("/a");
            m.Write(a, 0, 6000, 14);
            m.Link("/a", "/a-link");
            m.Fsync(a);
            m.Unlink("/a");
            m.Fsync(a);
            var b = m.Create("/b");
            m.Write(b, 0, 9 * Block, 15);
            m.Fsync(b);
            // Unlinked while open: the data stays reachable through the descriptor, and a crash
            // leaves the inode on the unlinked list for recovery to free.
            m.Unlink("/b");
            m.LogWorker();
            m.Write(b, 9 * Block, 3 * Block, 16);
            m.Fsync(b);
            var c = m.Create("/c");
            m.Write(c, 0, Block, 17);
            m.Unlink("/a-link");
            m.Fsync(c);
            m.Close(a);
        });
        yield return new("mkdir-rmdir", m =>
        {
            var d = m.Mkdir("/d");
            var e = m.Mkdir("/d/e");
            for (int i = 0; i < 40; i++)
                m.Close(m.Create($"/d/e/f{i:D2}-with-a-longer-name"));
            m.Fsync(e);
            for (int i = 0; i < 40; i += 2)
                m.Unlink($"/d/e/f{i:D2}-with-a-longer-name");
            m.LogWorker();
            m.Fsync(e);
            m.Mkdir("/d/g");
            m.Rmdir("/d/g");
            m.Fsync(d);
            for (int i = 1; i < 40; i += 2)
                m.Unlink($"/d/e/f{i:D2}-with-a-longer-name");
            m.Rmdir("/d/e");
            m.Fsync(d);
            var h = m.Create("/d/h");
            m.Fsync(h);
        });
        yield return new("node-directory", m =>
        {
            // One directory through every form: short-form, block, leaf, then node (more leaf
            // entries than one leaf block holds: leaves split under a da3 node, a free-index
            // block appears), and back down as names go; the transactions that change several
            // directory blocks at once are the ones a crash must not tear.
            var d = m.Mkdir("/d");
            for (int i = 0; i < 30; i++)
                m.Close(m.Create($"/d/{i:D4}"));
            m.Fsync(d);
            for (int i = 30; i < 620; i++)
                m.Close(m.Create($"/d/{i:D4}"));
            m.LogWorker();
            m.Fsync(d);
            for (int i = 0; i < 620; i += 3)
                m.Unlink($"/d/{i:D4}");
            m.Rename("/d/0001", "/d/renamed-after-the-node-split");
            m.Fsync(d);
            for (int i = 1; i < 620; i += 3)
            {
                if (i != 1)
                    m.Unlink($"/d/{i:D4}");
            }
            var f = m.Create("/d/last");
            m.Write(f, 0, 100, 21);
            m.Fsync(f);
            m.Fsync(d);
        });
        yield return new("reflink", m =>
        {
            var a = m.Create("/a");
            m.Write(a, 0, 12 * Block, 18);
            m.Fsync(a);
            var b = m.Create("/b");
            m.Clone(b, a, 0, 12 * Block, 0);
            m.LogWorker();
            m.Fsync(b);
            m.Write(a, 2 * Block, Block, 19);
            m.Fsync(a);
            m.Write(b, 5 * Block, 100, 20);
            m.Clone(b, a, 8 * Block, 4 * Block, 16 * Block);
            m.Fsync(b);
            m.Unlink("/a");
            m.Fsync(b);
            m.Close(a);
        });
        yield return new("xattr", m =>
        {
            static byte[] V(string s) => System.Text.Encoding.UTF8.GetBytes(s);
            var a = m.Create("/a");
            m.Write(a, 0, 2 * Block, 21);
            m.SetXattr(a, "user.colour", V("blue"));
            m.SetXattr(a, "trusted.seal", V("1"));
            m.Fsync(a);
            m.SetXattr(a, "user.colour", V("a much longer shade of green"));
            m.LogWorker();
            m.SetXattr(a, "security.label", V("s0"));
            m.Fsync(a);
            var d = m.Mkdir("/d");
            m.SetXattr(d, "user.dir", V("d1"));
            for (int i = 0; i < 24; i++)
                m.Create($"/d/f{i:D2}-with-a-longer-name");
            m.Fsync(d);
            // The file's block map grows to a B+tree beside its attributes.
            for (int i = 0; i < 30; i++)
                m.Write(a, (2L + 2 * i) * Block, Block, 22 + i);
            m.RemoveXattr(a, "trusted.seal");
            m.Fsync(a);
            // A long value moves every attribute to a leaf block; more go there too.
            m.SetXattr(a, "user.long", [.. Enumerable.Range(0, 700).Select(i => (byte)i)]);
            m.SetXattr(d, "trusted.long", new byte[400]);
            m.SetXattr(a, "user.more", V("more"));
            m.Fsync(a);
            m.Fsync(d);
            // Changes never fsync'd: a crash leaves the old or the new value.
            m.SetXattr(a, "user.colour", V("red"));
            m.SetXattr(d, "user.dir", V("d2"));
            m.RemoveXattr(a, "security.label");
            // Back to short form when the long one goes.
            m.RemoveXattr(a, "user.long");
            m.RemoveXattr(d, "trusted.long");
            m.LogWorker();
            m.SetXattr(a, "user.late", V("late"));
        });
    }
}
