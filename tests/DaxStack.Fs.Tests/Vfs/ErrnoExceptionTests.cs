using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

public class ErrnoExceptionTests
{
    [Test]
    public void ItCarriesTheErrnoAndGlibcsText()
    {
        var e = new ErrnoException(Errno.ENOTEMPTY, "rmdir: /d");
        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENOTEMPTY));
            Assert.That(e.StrError, Is.EqualTo("Directory not empty"));
            Assert.That(e.Message, Is.EqualTo("rmdir: /d"));
        });
    }

    [Test]
    public void FilesystemExceptionsMayDeriveFromItAndStillReachTheCaller()
    {
        Exception e = new DerivedFsException();
        Assert.That(e, Is.InstanceOf<ErrnoException>().With.Property(nameof(ErrnoException.Errno)).EqualTo(Errno.EUCLEAN));
    }

    [Test]
    public void EbadrHasGlibcsText() =>
        Assert.That(ErrnoText.StrError(Errno.EBADR), Is.EqualTo("Invalid request descriptor"));

    private sealed class DerivedFsException() : ErrnoException(Errno.EUCLEAN, "inode 128: bad magic");
}
