namespace DaxStack.Device.Crash;

/// <summary>
/// How a <see cref="CrashStateSpace"/> picks the crash states to test, after the strategies of
/// the published crash-consistency testers.
/// </summary>
public enum CrashStrategy
{
    /// <summary>
    /// Every possible image when there are at most <see cref="CrashEnumerationOptions.MaxStates"/>;
    /// otherwise the powerset of lines when few lines change (at most
    /// <see cref="CrashEnumerationOptions.PowersetLineLimit"/>) and it fits; otherwise a seeded
    /// random sample of every possible image.
    /// </summary>
    Auto,

    /// <summary>
    /// Every subset of the changed lines up to <see cref="CrashEnumerationOptions.SubsetSize"/> lines,
    /// each chosen line with its full current content on top of the persisted state
    /// (Chipmunk, LeBlanc et al., EuroSys'23).
    /// </summary>
    Subsets,

    /// <summary>
    /// Every combination of per-line prefixes, stores split into 8-byte atomic pieces: every image
    /// the hardware could leave (Vinter, Kaufmann et al., USENIX ATC'22).
    /// </summary>
    Prefixes,

    /// <summary>Every subset of the changed lines, each line either persisted or with its full content.</summary>
    Powerset,

    /// <summary>A seeded random sample of distinct images from the space of <see cref="Prefixes"/>.</summary>
    Sample,
}
