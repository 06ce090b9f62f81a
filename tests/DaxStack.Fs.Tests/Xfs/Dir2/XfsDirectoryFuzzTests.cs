using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>
/// Random damage to a directory's blocks or short-form bytes, with the CRC restamped half of the
/// time so the structure checks behind it are reached: every operation then succeeds or fails
/// with an <see cref="XfsException"/>, never another exception or a hang, and the checker
/// reports instead of throwing. Operations run on a copy of the inode in a transaction that is
/// cancelled, so each round starts from the same damaged state.
/// </summary>
public class XfsDirectoryFuzzTests
{
    [TestCase(10, 11)]
    [TestCase(60, 12)]
    [TestCase(400, 13)]
    [TestCase(1500, 14)]
    public void DamagedDirectoriesFailCleanly(int count, int seed)
    {
        var rng = new Random(seed);
        using var rig = DirTestRig.Create();
        var names = Enumerable.Range(0, count).Select(i => $"fuzz-{i:D5}").ToList();
        for (int i = 0; i < count; i++)
            rig.Add(names[i], 700 + (ulong)i);
        var pristine = rig.Dir.Map.Keys.ToDictionary(k => k, k => Snapshot(rig, k));
        byte[] local = rig.Dir.LocalData.ToArray();
        int failures = 0;
        for (int round = 0; round < 120; round++)
        {
            // Put the previous round's damage back, then do new damage.
            foreach (var (k, bytes) in pristine)
                rig.Corrupt(k, -1, b => bytes.CopyTo(b, 0));
            if (rig.Dir.DataFormat == XfsDinodeFormat.Local)
            {
                var bytes = (byte[])local.Clone();
                bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                rig.Run(tp => rig.Dir.SetLocal(tp, bytes));
            }
            else
            {
                ulong k = rig.Dir.Map.Keys.ElementAt(rng.Next(rig.Dir.Map.Count));
                int crc = k >= XfsDir2Format.LeafBlock(4096) && k < XfsDir2Format.FreeBlock(4096) ? XfsDir2Format.DaCrcOffset : XfsDir2Format.DataCrcOffset;
                int flips = rng.Next(1, 4);
                rig.Corrupt(k, rng.Next(2) == 0 ? crc : -1, b =>
                {
                    for (int i = 0; i < flips; i++)
                        b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                });
            }
            string existing = names[rng.Next(names.Count)];
            var ops = new (string What, Action<DirProbe> Op)[]
            {
                ("lookup", p => XfsDirectory.TryLookup(p.Tp, p.Dir, DirTestRig.B(existing))),
                ("iterate", p => XfsDirectory.Iterate(p.Tp, p.Dir)),
                ("isempty", p => XfsDirectory.IsEmpty(p.Tp, p.Dir)),
                ("add", p => XfsDirectory.AddName(p.Tp, p.Dir, DirTestRig.B($"new-{round}"), 9, XfsDirFileType.RegularFile)),
                ("remove", p => XfsDirectory.RemoveName(p.Tp, p.Dir, DirTestRig.B(existing))),
                ("replace", p => XfsDirectory.Replace(p.Tp, p.Dir, DirTestRig.B(existing), 10, XfsDirFileType.Fifo)),
                ("check", p => XfsDirectoryCheck.Check(p.Tp, p.Dir)),
            };
            foreach (var (what, op) in ops)
            {
                using var tp = rig.Fs.Begin(32);
                var probe = new DirProbe(tp, rig.Dir.Clone());
                try
                {
                    op(probe);
                }
                catch (XfsException)
                {
                    failures++;
                }
                catch (Exception e)
                {
                    Assert.Fail($"round {round}, {what}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                }
            }
            if (rig.Dir.DataFormat == XfsDinodeFormat.Local)
                rig.Run(tp => rig.Dir.SetLocal(tp, local));
        }
        Assert.That(failures, Is.GreaterThan(0), "some damage was noticed");
    }

    private static byte[] Snapshot(DirTestRig rig, ulong dablk)
    {
        byte[] copy = [];
        rig.Corrupt(dablk, -1, b => copy = (byte[])b.Clone());
        return copy;
    }
}
