using System.Globalization;

namespace MtActors.Client;

/// <summary>Parsing of 64-bit MTProto ids as users type them.</summary>
public static class Ids
{
    /// <summary>
    /// Decimal (signed, or unsigned up to 2^64-1, read as the same 64 bits) or 0x-hex (up to 16 digits, the 64 bits
    /// as written). False with a reason otherwise.
    /// </summary>
    public static bool TryParse(string? text, out long value, out string error)
    {
        value = 0;
        error = "";
        var s = text?.Trim() ?? "";
        if (s.Length == 0)
        {
            error = "an id is empty";
            return false;
        }

        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            var hex = s[2..].Replace("_", "", StringComparison.Ordinal);
            if (hex.Length is 0 or > 16 ||
                !ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var u))
            {
                error = $"'{text}' is not a 64-bit hex id (0x followed by 1..16 hex digits)";
                return false;
            }

            value = unchecked((long)u);
            return true;
        }

        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        if (ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var unsigned))
        {
            value = unchecked((long)unsigned);
            return true;
        }

        error = $"'{text}' is not a 64-bit id (decimal, or hex with 0x)";
        return false;
    }

    /// <summary>The id in hex as the CLI prints it (0x + 16 digits).</summary>
    public static string Hex(long id) => "0x" + id.ToString("x16", CultureInfo.InvariantCulture);
}
