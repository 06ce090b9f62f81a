using DaxStack.Device.Errors;

namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// A metadata structure failed verification when read: its magic number, CRC or a field is
/// wrong. The message is <c>STRUCTURE: PROBLEM</c> (<c>agf 1: CRC mismatch</c>). A CRC mismatch
/// carries EBADMSG and every other problem EUCLEAN, the errnos Linux XFS uses for them.
/// </summary>
/// <remarks>Models the kernel's buffer and inode verifiers failing with <c>-EFSBADCRC</c> (EBADMSG) or <c>-EFSCORRUPTED</c> (EUCLEAN), as <c>xfs_verifier_error</c> reports them.</remarks>
public sealed class XfsCorruptionException : XfsException
{
    public XfsCorruptionException(string structure, string problem, Errno errno = Errno.EUCLEAN)
        : base(errno, $"{structure}: {problem}")
    {
        Structure = structure;
        Problem = problem;
    }

    /// <summary>EFSCORRUPTED: the structure needs cleaning (xfs_repair).</summary>
    public const Errno EFSCORRUPTED = Errno.EUCLEAN;

    /// <summary>EFSBADCRC: the CRC does not match the contents.</summary>
    public const Errno EFSBADCRC = Errno.EBADMSG;

    /// <summary>Which structure: <c>sb 0</c>, <c>agf 1</c>, <c>inobt block 0/3</c>, <c>inode 128</c>.</summary>
    public string Structure { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }

    /// <summary>The stored CRC does not match the contents.</summary>
    public static XfsCorruptionException CrcMismatch(string structure) => new(structure, "CRC mismatch", EFSBADCRC);

    /// <summary>The magic number is not the structure's.</summary>
    public static XfsCorruptionException BadMagic(string structure, uint found, uint expected) =>
        new(structure, $"bad magic number 0x{found:x} (expected 0x{expected:x})");

    /// <summary>A field holds an impossible value.</summary>
    public static XfsCorruptionException BadField(string structure, string field, object value, string why) =>
        new(structure, $"bad {field} {value}: {why}");
}
