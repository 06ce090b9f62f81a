namespace DaxStack.Device.Cost;

/// <summary>The store fences that complete outstanding write-backs.</summary>
public enum FenceKind
{
    Sfence,
    Mfence,
}
