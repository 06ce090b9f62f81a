namespace DaxStack.Fs.Vfs;

/// <summary>An extended attribute's namespace and its name after the namespace prefix.</summary>
/// <remarks>Models the (handler, name suffix) pair <c>xattr_resolve_name</c> splits a full name into.</remarks>
public readonly record struct XattrName(XattrNamespace Namespace, string Name)
{
    /// <summary>The full name with its prefix, as listxattr reports it (<c>user.foo</c>).</summary>
    public string FullName => XattrNames.Prefix(Namespace) + Name;

    public override string ToString() => FullName;
}
