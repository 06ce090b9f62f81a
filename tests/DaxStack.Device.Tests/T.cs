namespace DaxStack.Device.Tests; public class T { [Test] public void A() => Assert.That(1+1, Is.EqualTo(2)); }
