using System.Text;
using DaxStack.Fs.Vfs;
using Stopwatch = System.Diagnostics.Stopwatch;

namespace DaxStack.Fs.Tests.Vfs.Model;

/// <summary>
/// Model-based test: seeded random system calls run on the filesystem under test through
/// <see cref="Process"/> (as root, and path calls also as an unprivileged user) and on
/// <see cref="ReferenceModel"/>; after every step the return values
/// and errnos must agree, and then the whole tree (listings, types, sizes, link counts, contents)
/// and every open descriptor. A failure names the seed and the step and shows the steps before it.
/// </summary>
[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class ModelBasedTests : VfsTestBase
{
    private const int FdLimit = 8;
    private const int Steps = 2500;

    public ModelBasedTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(20261130)]
    public void RandomSystemCallsAgreeWithTheReferenceModel(int seed)
    {
        var actor = Spawn(Credentials.Root);
        actor.FdLimit = FdLimit;
        var user = User(ReferenceModel.UserUid, ReferenceModel.UserGid);
        var checker = Spawn(Credentials.Root);
        var model = new ReferenceModel(FdLimit);
        var generator = new ModelStepGenerator(seed);
        var history = new Queue<string>();
        var errors = new Dictionary<string, int>();
        var sw = Stopwatch.StartNew();
        for (int step = 0; step < Steps; step++)
        {
            var s = generator.Next(model);
            var expected = model.Apply(s);
            var actual = ProcessStepRunner.Run(actor, user, s);
            history.Enqueue($"{step}: {s} -> {expected}");
            if (history.Count > 12)
            {
                history.Dequeue();
            }

            string key = $"{(s.AsUser ? "user " : string.Empty)}{s.Op} {expected.Error?.ToString() ?? "ok"}";
            errors[key] = errors.GetValueOrDefault(key) + 1;
            string where = $"seed {seed} step {step}: {s}\nrecent steps:\n{string.Join('\n', history)}";
            Assert.That(actual, Is.EqualTo(expected), where);
            string? mismatch = CompareState(model, actor, checker);
            Assert.That(mismatch, Is.Null, where);
        }

        TestContext.Out.WriteLine($"seed {seed}: {Steps} steps in {sw.ElapsedMilliseconds} ms");
        TestContext.Out.WriteLine(string.Join(", ", errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}")));
    }

    /// <summary>The first difference between the model and the filesystem, or null.</summary>
    private static string? CompareState(ReferenceModel model, Process actor, Process checker)
    {
        var sb = new StringBuilder();
        CompareDirectory(model.Root, "/", checker, sb);
        foreach (var (fd, f) in model.Fds)
        {
            var st = actor.Fstat(fd);
            long size = f.Node.IsDirectory ? 0 : f.Node.Data.Length;
            if ((st.IsDirectory ? 0 : st.Size) != size || st.Nlink != f.Node.Nlink || st.IsDirectory != f.Node.IsDirectory)
            {
                sb.AppendLine($"fd {fd}: size {st.Size} nlink {st.Nlink}, model size {size} nlink {f.Node.Nlink}");
            }
            else if (f.CanRead && !f.Node.IsDirectory)
            {
                var data = new byte[size];
                actor.Pread(fd, data, 0);
                if (!data.AsSpan().SequenceEqual(f.Node.Data))
                {
                    sb.AppendLine($"fd {fd}: contents differ");
                }
            }
        }

        return sb.Length == 0 ? null : sb.ToString();
    }

    private static void CompareDirectory(ModelNode dir, string path, Process checker, StringBuilder sb)
    {
        string listing = ProcessStepRunner.Listing(checker.ReadDirectory(path));
        string expected = ReferenceModel.Listing(dir);
        if (listing != expected)
        {
            sb.AppendLine($"{path}: lists [{listing}], model [{expected}]");
            return;
        }

        var st = checker.Stat(path);
        if (st.Nlink != dir.Nlink || (st.Mode & InodeMode.S_IALLUGO) != dir.Mode || st.Uid != dir.Uid || st.Gid != dir.Gid)
        {
            sb.AppendLine($"{path}: nlink {st.Nlink} mode {st.Mode:x} uid {st.Uid} gid {st.Gid}, model {dir.Nlink} {dir.Mode:x} {dir.Uid} {dir.Gid}");
        }

        foreach (var (name, node) in dir.Children)
        {
            string child = path == "/" ? "/" + name : path + "/" + name;
            if (node.IsDirectory)
            {
                CompareDirectory(node, child, checker, sb);
                continue;
            }

            var cst = checker.Stat(child);
            if (cst.Size != node.Data.Length || cst.Nlink != node.Nlink || (cst.Mode & InodeMode.S_IALLUGO) != node.Mode || cst.Uid != node.Uid)
            {
                sb.AppendLine($"{child}: size {cst.Size} nlink {cst.Nlink} mode {cst.Mode:x} uid {cst.Uid}, model {node.Data.Length} {node.Nlink} {node.Mode:x} {node.Uid}");
                continue;
            }

            int fd = checker.Open(child, OpenFlags.O_RDONLY);
            try
            {
                var data = new byte[cst.Size];
                checker.Pread(fd, data, 0);
                if (!data.AsSpan().SequenceEqual(node.Data))
                {
                    int at = data.AsSpan().CommonPrefixLength(node.Data);
                    sb.AppendLine($"{child}: contents differ from byte {at}");
                }
            }
            finally
            {
                checker.Close(fd);
            }
        }
    }
}
