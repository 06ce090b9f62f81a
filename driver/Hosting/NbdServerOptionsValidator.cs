using DaxStack.Driver.Nbd;
using Microsoft.Extensions.Options;

namespace DaxStack.Driver.Hosting;

/// <summary>Validates <see cref="NbdServerOptions"/> when the host starts, naming every problem.</summary>
public sealed class NbdServerOptionsValidator : IValidateOptions<NbdServerOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, NbdServerOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
