using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>A transaction and a throw-away copy of the test directory inode, handed to one fuzzed operation.</summary>
internal sealed record DirProbe(XfsTransaction Tp, TestDirectoryInode Dir);
