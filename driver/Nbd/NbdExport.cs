using System.Text;
using DaxStack.Driver.Block;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// One block device offered by an <see cref="NbdServer"/>: the name clients ask for, a
/// description shown to people (<c>NBD_OPT_LIST</c>, <c>NBD_INFO_DESCRIPTION</c>), the device, and
/// whether clients may change it. An export is read-only when <see cref="ReadOnly"/> was asked for
/// or when the device itself refuses writes. Any number of connections may use one export at once.
/// </summary>
/// <remarks>Models an export of the NBD protocol, as an <c>[export]</c> section of nbd-server's configuration describes one.</remarks>
public sealed class NbdExport
{
    /// <summary>The longest name or description the protocol allows, in UTF-8 bytes.</summary>
    public const int MaxStringBytes = 4096;

    private readonly bool _readOnly;

    /// <summary>An export of <paramref name="device"/> called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, contains NUL or is longer than 4096 UTF-8 bytes, or the description is too long.</exception>
    public NbdExport(string name, IBlockDeviceOperations device, string? description = null, bool readOnly = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(device);
        CheckString(name, nameof(name), allowEmpty: false);
        description ??= "";
        CheckString(description, nameof(description), allowEmpty: true);
        Name = name;
        Description = description;
        Device = device;
        _readOnly = readOnly;
    }

    /// <summary>The export name (<c>NBD_OPT_EXPORT_NAME</c>, <c>NBD_OPT_GO</c>).</summary>
    public string Name { get; }

    /// <summary>A description for people; may be empty.</summary>
    public string Description { get; }

    /// <summary>The block device served.</summary>
    public IBlockDeviceOperations Device { get; }

    /// <summary>Whether writes, trims and write-zeroes fail with EPERM (asked for, or the device is read-only).</summary>
    public bool ReadOnly => _readOnly || Device.Limits.ReadOnly;

    /// <summary>The export size in bytes: the device's capacity.</summary>
    public long Size => Device.Limits.Capacity;

    /// <summary>
    /// Serializes the read-modify-write of partial blocks (unaligned writes and write-zeroes) of
    /// this export across its connections, so two connections patching different bytes of one
    /// block do not undo each other.
    /// </summary>
    internal object ReadModifyWriteGate { get; } = new();

    /// <summary>The transmission flags this export is offered with.</summary>
    internal NbdTransmissionFlags TransmissionFlags
    {
        get
        {
            var limits = Device.Limits;
            // A flush on any connection fences every submission queue of the device
            // (PmemDevice's Flush), so it covers writes completed on all connections: multi-conn is safe.
            var flags = NbdTransmissionFlags.HasFlags | NbdTransmissionFlags.SendFlush | NbdTransmissionFlags.SendFua
                        | NbdTransmissionFlags.CanMultiConn;
            if (ReadOnly)
                return flags | NbdTransmissionFlags.ReadOnly;
            if (limits.Discard)
                flags |= NbdTransmissionFlags.SendTrim;
            // Write-zeroes is always possible: without device support it would be plain writes of zeroes,
            // but pmem supports it, and the server advertises what it serves through the device.
            if (limits.WriteZeroes)
                flags |= NbdTransmissionFlags.SendWriteZeroes;
            return flags;
        }
    }

    public override string ToString() => $"{Name} ({Size} bytes{(ReadOnly ? ", read-only" : "")})";

    private static void CheckString(string value, string parameter, bool allowEmpty)
    {
        if (!allowEmpty && value.Length == 0)
            throw new ArgumentException("an NBD export name must not be empty (the empty name selects the default export)", parameter);
        if (value.Contains('\0'))
            throw new ArgumentException("NBD strings must not contain NUL", parameter);
        if (Encoding.UTF8.GetByteCount(value) > MaxStringBytes)
            throw new ArgumentException($"NBD strings are at most {MaxStringBytes} UTF-8 bytes", parameter);
    }
}
