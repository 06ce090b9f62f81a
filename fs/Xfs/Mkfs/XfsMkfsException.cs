using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Mkfs;

/// <summary>
/// mkfs refused or failed: an option value it cannot honour, a device too small, an existing
/// filesystem without <c>-f</c>, or a write error. The message says which option or what, in
/// mkfs.xfs's words where mkfs.xfs has them; nothing was written when it is thrown before the
/// first write (every validation happens before).
/// </summary>
/// <remarks>Models mkfs.xfs's usage and validation errors (<c>illegal_option</c>, <c>validate_ag_geometry</c>, <c>validate_overwrite</c>).</remarks>
public sealed class XfsMkfsException(Errno errno, string message) : XfsException(errno, message);
