using System.Text;
using DaxStack.Driver.Block;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>A filesystem made by our mkfs, one test directory in it, and one transaction per operation.</summary>
internal sealed class DirTestRig : IDisposable
{
    public const ulong DirIno = 4242;
    public const ulong ParentIno = 128;

    private DirTestRig(MetadataTestFs fs, TestDirectoryInode dir)
    {
        Fs = fs;
        Dir = dir;
    }

    public MetadataTestFs Fs { get; }

    public TestDirectoryInode Dir { get; }

    public static DirTestRig Create(int localCapacity = TestDirectoryInode.DefaultLocalCapacity, long size = 64 * MetadataTestFs.MiB)
    {
        var rig = new DirTestRig(MetadataTestFs.Create(size), new TestDirectoryInode(DirIno, localCapacity));
        rig.Run(tp => XfsDirectory.Init(tp, rig.Dir, ParentIno));
        return rig;
    }

    public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Runs a change in a transaction that may allocate up to 32 blocks.</summary>
    public void Run(Action<XfsTransaction> action)
    {
        using var tp = Fs.Begin(32);
        action(tp);
        tp.Commit();
    }

    /// <summary>Runs a query in a transaction that reserves no blocks (so it works on a full filesystem).</summary>
    public T Run<T>(Func<XfsTransaction, T> f)
    {
        using var tp = Fs.Begin(0);
        var result = f(tp);
        tp.Commit();
        return result;
    }

    public void Add(string name, ulong ino, XfsDirFileType ftype = XfsDirFileType.RegularFile) =>
        Run(tp => XfsDirectory.AddName(tp, Dir, B(name), ino, ftype));

    public void Remove(string name) => Run(tp => XfsDirectory.RemoveName(tp, Dir, B(name)));

    public void Replace(string name, ulong ino, XfsDirFileType ftype = XfsDirFileType.RegularFile) =>
        Run(tp => XfsDirectory.Replace(tp, Dir, B(name), ino, ftype));

    public XfsDirEntry? Lookup(string name) => Run(tp => XfsDirectory.TryLookup(tp, Dir, B(name)));

    public IReadOnlyList<XfsDirEntry> List(uint from = 0) => Run(tp => XfsDirectory.Iterate(tp, Dir, from));

    public XfsDir2Form Form => Run(tp => XfsDirectory.FormOf(tp, Dir));

    public bool IsEmpty => Run(tp => XfsDirectory.IsEmpty(tp, Dir));

    public XfsDirectoryCheckResult Check() => Run(tp => XfsDirectoryCheck.Check(tp, Dir));

    public ulong FreeBlocks => Fs.Mount.Superblock.FdBlocks;

    /// <summary>Asserts the checker finds nothing and the entries are exactly "." / ".." plus <paramref name="model"/>.</summary>
    public void AssertMatches(IReadOnlyDictionary<string, ulong> model, string when)
    {
        var check = Check();
        Assert.That(check.Problems, Is.Empty, when);
        var listed = check.Entries.Where(e => !XfsDir2Format.IsDotOrDotDot(e.Name)).ToDictionary(e => e.NameText, e => e.Ino);
        Assert.That(listed, Is.EquivalentTo(model), when);
    }

    /// <summary>
    /// Changes directory block <paramref name="dablk"/> on the device (restamping the CRC at
    /// <paramref name="crcOffset"/> unless it is -1) and empties the buffer cache, so the next
    /// operation reads the damage.
    /// </summary>
    public void Corrupt(ulong dablk, int crcOffset, Action<byte[]> change)
    {
        var geo = Fs.Mount.Geometry;
        var dev = Fs.Mount.Device;
        long offset = geo.FsbToOffset(Dir.Map[dablk]);
        var b = new byte[geo.BlockSize];
        Assert.That(dev.Read(offset, b), Is.EqualTo(BlkStatus.Ok));
        change(b);
        if (crcOffset >= 0)
            XfsCrc.Stamp(b, crcOffset);
        Assert.That(dev.Write(offset, b), Is.EqualTo(BlkStatus.Ok));
        Fs.Mount.Buffers.Purge();
    }

    public void Dispose() => Fs.Dispose();
}
