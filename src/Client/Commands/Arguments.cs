using System.CommandLine;
using System.CommandLine.Parsing;
using MtActors.Admin;

namespace MtActors.Client.Commands;

/// <summary>Arguments and options several commands share.</summary>
internal static class Arguments
{
    /// <summary>A 64-bit id argument (decimal or 0x-hex); a malformed one is a usage error naming the argument.</summary>
    public static Argument<long> Id(string name, string description) => new(name)
    {
        Description = description + " (decimal or 0x-hex)",
        CustomParser = r => ParseId($"<{name}>", r) ?? 0,
    };

    /// <summary>An optional 64-bit id option (decimal or 0x-hex).</summary>
    public static Option<long?> IdOption(string name, string description, params string[] aliases) => new(name, aliases)
    {
        Description = description + " (decimal or 0x-hex)",
        HelpName = "id",
        CustomParser = r => ParseId(name, r),
    };

    /// <summary>The id of <paramref name="result"/>'s token, or null with the reason added as a parse error.</summary>
    private static long? ParseId(string name, ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Ids.TryParse(name, token, out var value, out var why))
        {
            return value;
        }

        result.AddError(why);
        return null;
    }

    /// <summary>Adds a range check to an integer option.</summary>
    public static Option<int> InRange(this Option<int> option, int min, int max)
    {
        option.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<int>();
            if (value < min || value > max)
            {
                r.AddError($"{option.Name} must be between {min} and {max}");
            }
        });
        return option;
    }
}
