namespace DaxStack.Tools.Io;

/// <summary>
/// POSIX option parsing over one command's words: clustered flags (<c>-kv</c>), option arguments
/// attached or separate (<c>-S0</c>, <c>-S 0</c>), <c>--</c> ends the options, and parsing stops
/// at the first word that is not an option. <see cref="Next"/> returns the option letter, '?' for
/// an unknown option or a missing argument, and -1 at the end; <see cref="Optind"/> is then the
/// first operand.
/// </summary>
/// <remarks>Models <c>getopt(3)</c> as xfs_io's commands use it (without glibc's argument permutation).</remarks>
public sealed class IoGetopt
{
    private readonly string[] _argv;
    private readonly string _spec;
    private int _charIndex;

    /// <summary>Parses <paramref name="argv"/> (the command name at index 0) against <paramref name="spec"/> ("b:S:qv": a colon marks a letter that takes an argument).</summary>
    public IoGetopt(string[] argv, string spec)
    {
        _argv = argv;
        _spec = spec;
    }

    /// <summary>Index of the next word to look at; after -1, the first operand.</summary>
    public int Optind { get; private set; } = 1;

    /// <summary>The argument of the option just returned, if it takes one.</summary>
    public string? Optarg { get; private set; }

    /// <summary>The next option letter, '?' on an error, -1 when the options end.</summary>
    public int Next()
    {
        Optarg = null;
        if (_charIndex == 0)
        {
            if (Optind >= _argv.Length)
                return -1;
            string word = _argv[Optind];
            if (word == "--")
            {
                Optind++;
                return -1;
            }
            if (word.Length < 2 || word[0] != '-')
                return -1;
            _charIndex = 1;
        }

        string arg = _argv[Optind];
        char c = arg[_charIndex++];
        bool lastInWord = _charIndex >= arg.Length;
        int at = c == ':' ? -1 : _spec.IndexOf(c);
        if (at < 0)
        {
            if (lastInWord)
                NextWord();
            return '?';
        }

        if (at + 1 < _spec.Length && _spec[at + 1] == ':')
        {
            if (!lastInWord)
                Optarg = arg[_charIndex..];
            else if (Optind + 1 < _argv.Length)
                Optarg = _argv[++Optind];
            else
            {
                NextWord();
                return '?';
            }
            NextWord();
            return c;
        }

        if (lastInWord)
            NextWord();
        return c;
    }

    private void NextWord()
    {
        Optind++;
        _charIndex = 0;
    }
}
