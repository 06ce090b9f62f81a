namespace DaxStack.Fs.Vfs;

/// <summary>
/// Who a process acts as: filesystem user and group ids and its effective capabilities.
/// Immutable; a process changes credentials by replacing the object, as the kernel does.
/// </summary>
/// <remarks>Models the kernel's <c>struct cred</c> (<c>fsuid</c>, <c>fsgid</c>, <c>cap_effective</c>).</remarks>
public sealed record Credentials(uint Uid, uint Gid, Capabilities Capabilities)
{
    /// <summary>uid 0, gid 0, every capability.</summary>
    public static Credentials Root { get; } = new(0, 0, Capabilities.All);

    /// <summary>An unprivileged user with no capabilities.</summary>
    public static Credentials User(uint uid, uint gid) => new(uid, gid, Capabilities.None);

    /// <summary>Whether the credentials hold <paramref name="cap"/> (<c>capable()</c>).</summary>
    public bool Capable(Capabilities cap) => (Capabilities & cap) == cap;

    /// <summary>These credentials without <paramref name="cap"/>.</summary>
    public Credentials Drop(Capabilities cap) => this with { Capabilities = Capabilities & ~cap };
}
