using System.Text;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

public class XfsDaHashTests
{
    // Values xfs_db 6.1 prints for "hash NAME" and in "ls" listings.
    [TestCase(".", 0x2eu)]
    [TestCase("..", 0x172eu)]
    [TestCase("abc", 0x187163u)]
    [TestCase("f0", 0x3330u)]
    [TestCase("file_0000", 0x90dfab1du)]
    [TestCase("file_0001", 0x90dfab1cu)]
    public void KnownNamesHashAsXfsDbSays(string name, uint hash) =>
        Assert.That(XfsDaHash.HashName(Encoding.ASCII.GetBytes(name)), Is.EqualTo(hash));

    [Test]
    public void AnEmptyNameHashesToZero() => Assert.That(XfsDaHash.HashName([]), Is.Zero);

    [Test]
    [NonParallelizable]
    public void RandomNamesOfEveryLengthHashAsXfsDbSays()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-hash-").FullName;
        try
        {
            string image = FsTestDevice.SparseImage(dir, "h.img", 64L << 20);
            XfsProgs.MkfsXfs(image);
            var rng = new Random(7);
            var names = new List<string>();
            for (int len = 1; len <= 40; len++)
                names.Add(new string([.. Enumerable.Range(0, len).Select(_ => (char)rng.Next('a', 'z' + 1))]));
            names.Add(new string('Z', 255));
            var lines = XfsProgs.Db(image, [.. names.Select(n => $"hash {n}")]);
            Assert.That(lines, Has.Length.EqualTo(names.Count));
            for (int i = 0; i < names.Count; i++)
                Assert.That(XfsDaHash.HashName(Encoding.ASCII.GetBytes(names[i])), Is.EqualTo(Convert.ToUInt32(lines[i].Trim(), 16)), names[i]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
