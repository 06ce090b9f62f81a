using Microsoft.Extensions.Options;

namespace DaxStack.Fs.Hosting;

/// <summary>Validates <see cref="XfsLogOptions"/> when the host starts, naming every problem.</summary>
/// <remarks>Plays the part of the kernel's sysctl range check on <c>xfssyncd_centisecs</c> (<c>xfs_params</c> min/max).</remarks>
public sealed class XfsLogOptionsValidator : IValidateOptions<XfsLogOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, XfsLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
