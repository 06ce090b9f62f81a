using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>
/// Our directory code changing a directory of a real mkfs.xfs image, judged by real xfsprogs:
/// every file of a node directory is renamed (removed, shrinking the directory to short-form,
/// then added back under a new name, growing it to node form again), and xfs_repair -n finds
/// nothing to fix while xfs_db lists the new names with the same inodes.
/// </summary>
[NonParallelizable]
public class XfsDirectoryInteropTests
{
    [Test]
    public void XfsRepairAcceptsADirectoryWhoseFilesWereAllRenamedByOurCode()
    {
        const int count = 700;
        using var image = MkfsXfsDirectoryImage.Create(("work", count, i => $"orig-{i:D4}"));
        ulong dirIno = image.DirIno("work");
        var files = image.List(dirIno).Where(e => !XfsDir2Format.IsDotOrDotDot(e.Name)).ToList();
        Assert.That(XfsDirectoryReader.FormOf(image.Inode(dirIno), image.Geometry, image.Uuid, image.ReadBlock), Is.EqualTo(XfsDir2Form.Node));
        string path = image.Image;
        long block0Offset;
        image.CloseDevice();
        using (var fs = MetadataTestFs.Open(path))
        {
            DiskDirectoryInode dir;
            using (var tp = fs.Begin())
            {
                dir = new DiskDirectoryInode(tp, dirIno);
                tp.Commit();
            }
            var forms = new HashSet<XfsDir2Form>();
            foreach (var f in files)
            {
                using var tp = fs.Begin(32);
                XfsDirectory.RemoveName(tp, dir, f.Name);
                forms.Add(XfsDirectory.FormOf(tp, dir));
                tp.Commit();
            }
            for (int i = 0; i < files.Count; i++)
            {
                using var tp = fs.Begin(32);
                XfsDirectory.AddName(tp, dir, DirTestRig.B($"renamed-{i:D4}-{new string('q', i % 40)}"), files[i].Ino, files[i].FileType);
                forms.Add(XfsDirectory.FormOf(tp, dir));
                tp.Commit();
            }
            Assert.That(forms, Is.EquivalentTo(Enum.GetValues<XfsDir2Form>()), "every form was passed through");
            using (var tp = fs.Begin())
            {
                Assert.That(XfsDirectoryCheck.Check(tp, dir).Problems, Is.Empty);
                Assert.That(dir.TryMapBlock(tp, 0, out ulong fsb), Is.True);
                block0Offset = fs.Mount.Geometry.FsbToOffset(fsb);
                tp.Commit();
            }
        }
        XfsProgs.AssertRepairPasses(path, "after renaming every file");
        var listed = XfsProgs.Db(path, $"inode {dirIno}", "ls")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && f[5] is not ("." or ".."))
            .ToDictionary(f => f[5], f => ulong.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));
        var expected = files.Select((f, i) => ($"renamed-{i:D4}-{new string('q', i % 40)}", f.Ino)).ToDictionary(p => p.Item1, p => p.Ino);
        Assert.That(listed, Is.EquivalentTo(expected));

        // The check has teeth: one renamed byte in a name (CRC restamped) no longer matches its leaf hash.
        using (var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            var block = new byte[4096];
            f.Position = block0Offset;
            f.ReadExactly(block);
            block[XfsDir2Format.FirstOffset + 9] ^= 0x01;
            XfsCrc.Stamp(block, XfsDir2Format.DataCrcOffset);
            f.Position = block0Offset;
            f.Write(block);
        }
        Assert.That(XfsProgs.RepairNoModify(path).Status, Is.Not.Zero, "xfs_repair -n should notice the damaged entry");
    }
}
