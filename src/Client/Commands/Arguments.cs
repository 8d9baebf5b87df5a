using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
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

    /// <summary>Adds a range check to an integer option: "--name must be min..max (got v)".</summary>
    public static Option<int> InRange(this Option<int> option, int min, int max)
    {
        option.Validators.Add(r =>
        {
            if (r.TryGetValue(out int value) && (value < min || value > max))
            {
                r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be {min}..{max} (got {value})"));
            }
        });
        return option;
    }

    /// <summary>Adds a range check to a number option (NaN is out of every range).</summary>
    public static Option<double> InRange(this Option<double> option, double min, double max, string? unit = null)
    {
        option.Validators.Add(r =>
        {
            if (r.TryGetValue(out double value) && !(value >= min && value <= max))
            {
                r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be {min}..{max}{unit} (got {value})"));
            }
        });
        return option;
    }

    /// <summary>
    /// The option's value for a validator; false, with a usage error naming the option, when its text is not a value
    /// of the option's type (e.g. <c>--page abc</c>).
    /// </summary>
    public static bool TryGetValue<T>(this OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
            var expected = type == typeof(double) ? "a number" : type == typeof(int) || type == typeof(long) ? "a whole number" : type.Name;
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            result.AddError($"{result.Option.Name}: '{text}' is not {expected}");
            value = default!;
            return false;
        }
    }
}
