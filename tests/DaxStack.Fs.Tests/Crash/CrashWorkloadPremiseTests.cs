using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.Super;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Crash;

/// <summary>
/// What the crash workloads rely on to cover what they say they cover: a workload named after a
/// directory form must really drive the directory into that form.
/// </summary>
public class CrashWorkloadPremiseTests
{
    [Test]
    public void TheNodeDirectoryWorkloadsNamesTakeTheDirectoryThroughBlockAndLeafToNodeForm()
    {
        using var device = FsTestDevice.InMemory(32L << 20);
        XfsMkfs.Format(device.Device, new XfsMkfsOptions { AgCount = 2, Reflink = true });
        var type = new XfsFileSystemType(device.Device, new XfsMountOptions { GenerationSeed = 1 });
        var p = new DaxStack.Fs.Vfs.Vfs(type).CreateProcess(Credentials.Root);
        p.Mkdir("/d", 0x1ED);
        var forms = new List<XfsDir2Form>();
        for (int i = 0; i < 620; i++)
        {
            p.Close(p.Creat($"/d/{i:D4}", 0x1A4));
            var form = FormOfD(p, type);
            if (forms.Count == 0 || forms[^1] != form)
                forms.Add(form);
        }
        Assert.That(forms, Is.EqualTo(new[] { XfsDir2Form.Shortform, XfsDir2Form.Block, XfsDir2Form.Leaf, XfsDir2Form.Node }));
        p.Dispose();
        type.Super!.Sb.Operations.PutSuper();
    }

    private static XfsDir2Form FormOfD(Process p, XfsFileSystemType type)
    {
        var mp = type.Super!.Mount;
        ulong ino = (ulong)p.Stat("/d").Ino;
        using var tp = XfsTransaction.Begin(mp);
        var ip = XfsInodeCache.For(mp).GetInUse(tp, ino);
        return XfsDirectory.FormOf(tp, new XfsDirectoryInode(ip));
    }
}
