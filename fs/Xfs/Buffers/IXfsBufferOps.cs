namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// What kind of metadata a buffer holds and how to check it. <see cref="VerifyRead"/> runs on
/// every buffer read from the device (magic number, CRC, the structure's own checks and its
/// place in the filesystem); <see cref="VerifyWrite"/> runs before every write, stamps the CRC
/// and checks the structure again, so corrupt in-memory metadata never reaches the media. Both
/// throw <see cref="OnDisk.XfsCorruptionException"/> naming the structure.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_buf_ops</c> (<c>name</c>, <c>verify_read</c>, <c>verify_write</c>).</remarks>
public interface IXfsBufferOps
{
    /// <summary>The structure's name as error messages use it (<c>agf</c>, <c>bnobt</c>, <c>inode cluster</c>).</summary>
    string Name { get; }

    /// <summary>The name of the structure <paramref name="buffer"/> holds: <c>agf 1</c>, <c>bnobt block 0/12</c>.</summary>
    string Describe(XfsBuffer buffer);

    /// <summary>Checks a buffer just read from the device.</summary>
    void VerifyRead(XfsBuffer buffer);

    /// <summary>Stamps the buffer's CRC(s) and checks it before it is written.</summary>
    void VerifyWrite(XfsBuffer buffer);
}
