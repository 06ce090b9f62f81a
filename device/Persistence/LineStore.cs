namespace DaxStack.Device.Persistence;

/// <summary>
/// One store to a 64-byte line since the line was last persisted, in program order.
/// <see cref="Offset"/> is within the line; <see cref="Data"/> is what the store wrote.
/// </summary>
public readonly record struct LineStore(int Offset, ReadOnlyMemory<byte> Data);
