using DaxStack.Device.Errors;

namespace DaxStack.Device.Tests.Platform;

public class ErrnoTests
{
    [TestCase(Errno.ENOSPC, 28, "No space left on device")]
    [TestCase(Errno.ETXTBSY, 26, "Text file busy")]
    [TestCase(Errno.EOPNOTSUPP, 95, "Operation not supported")]
    [TestCase(Errno.EXDEV, 18, "Invalid cross-device link")]
    [TestCase(Errno.EIO, 5, "Input/output error")]
    public void ValuesAndTextMatchLinuxAndGlibc(Errno errno, int number, string text)
    {
        Assert.Multiple(() =>
        {
            Assert.That((int)errno, Is.EqualTo(number));
            Assert.That(ErrnoText.StrError(errno), Is.EqualTo(text));
        });
    }

    [Test]
    public void EveryDefinedErrnoHasText()
    {
        foreach (var e in Enum.GetValues<Errno>())
            Assert.That(ErrnoText.StrError(e), Does.Not.StartWith("Unknown error"), e.ToString());
    }
}
