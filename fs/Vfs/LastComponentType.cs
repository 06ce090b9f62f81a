namespace DaxStack.Fs.Vfs;

/// <summary>What the last component of a path is.</summary>
/// <remarks>Models the kernel's <c>LAST_NORM</c>, <c>LAST_ROOT</c>, <c>LAST_DOT</c>, <c>LAST_DOTDOT</c>.</remarks>
internal enum LastComponentType
{
    Norm,
    Root,
    Dot,
    DotDot,
}
