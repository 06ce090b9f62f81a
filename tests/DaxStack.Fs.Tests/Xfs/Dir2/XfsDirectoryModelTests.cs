using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>
/// Random add / remove / replace sequences against a dictionary: after every step the checker
/// finds nothing wrong and the directory holds exactly the model's names; space comes back.
/// </summary>
public class XfsDirectoryModelTests
{
    private static string RandomName(Random rng)
    {
        // Mostly short names, some long ones, so every form and block split shows up.
        int len = rng.Next(10) == 0 ? rng.Next(100, 256) : rng.Next(1, 24);
        var chars = new char[len];
        for (int i = 0; i < len; i++)
            chars[i] = (char)('!' + rng.Next(94));
        string s = new string(chars).Replace('/', '_');
        return s is "." or ".." ? s + "x" : s;
    }

    [TestCase(1, 3000, 0.65)]
    [TestCase(2, 3000, 0.45)]
    [TestCase(3, 4000, 0.8)]
    public void RandomOperationsMatchADictionaryAndPassTheChecker(int seed, int steps, double addBias)
    {
        var rng = new Random(seed);
        using var rig = DirTestRig.Create();
        ulong free = rig.FreeBlocks;
        var model = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var forms = new HashSet<XfsDir2Form>();
        for (int step = 0; step < steps; step++)
        {
            double roll = rng.NextDouble();
            string what;
            if (model.Count == 0 || roll < addBias)
            {
                string name = RandomName(rng);
                ulong ino = rng.Next(20) == 0 ? (ulong)rng.NextInt64(1L << 33, 1L << 50) : (ulong)rng.Next(100, 1 << 30);
                what = $"step {step}: add '{name}' -> {ino}";
                if (model.ContainsKey(name))
                {
                    var e = Assert.Throws<XfsException>(() => rig.Add(name, ino), what);
                    Assert.That(e!.Errno, Is.EqualTo(Errno.EEXIST), what);
                }
                else
                {
                    rig.Add(name, ino);
                    model[name] = ino;
                }
            }
            else if (roll < addBias + ((1 - addBias) * 0.8))
            {
                string name = model.Keys.ElementAt(rng.Next(model.Count));
                what = $"step {step}: remove '{name}'";
                rig.Remove(name);
                model.Remove(name);
            }
            else
            {
                string name = model.Keys.ElementAt(rng.Next(model.Count));
                ulong ino = (ulong)rng.Next(100, 1 << 30);
                what = $"step {step}: replace '{name}' -> {ino}";
                rig.Replace(name, ino, XfsDirFileType.Symlink);
                model[name] = ino;
            }
            forms.Add(rig.Form);
            // The full check reads every block: run it often while small, every few steps later.
            if (model.Count < 150 || step % 40 == 0)
                rig.AssertMatches(model, what);
        }
        rig.AssertMatches(model, "at the end");
        foreach (var name in model.Keys.ToList())
        {
            rig.Remove(name);
            model.Remove(name);
        }
        Assert.Multiple(() =>
        {
            Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Shortform));
            Assert.That(rig.FreeBlocks, Is.EqualTo(free), "every directory block freed");
            Assert.That(forms, Has.Count.GreaterThanOrEqualTo(3), "forms visited");
        });
    }

    [Test]
    public void ThousandsOfNamesSurviveARemountFromTheDevice()
    {
        using var rig = DirTestRig.Create();
        var model = new Dictionary<string, ulong>();
        for (int i = 0; i < 3000; i++)
        {
            rig.Add($"file-{i}", 10_000 + (ulong)i);
            model[$"file-{i}"] = 10_000 + (ulong)i;
        }
        for (int i = 0; i < 3000; i += 3)
        {
            rig.Remove($"file-{i}");
            model.Remove($"file-{i}");
        }
        rig.Fs.Mount.Buffers.WriteBackDirty();
        rig.Fs.Remount();
        rig.AssertMatches(model, "after remount");
        Assert.That(rig.Lookup("file-1")!.Ino, Is.EqualTo(10_001UL));
    }
}
