using System.Globalization;

namespace MtActors.Silo.Http;

/// <summary>
/// 64-bit MTProto ids in the HTTP API. In: decimal (signed, or unsigned up to 2^64-1 read as the same 64 bits) or
/// 0x-hex (1..16 digits, the 64 bits as written) — the same forms the mtactors CLI takes. Out (JSON): the signed
/// decimal of the TL <c>long</c>, as a string, because JavaScript numbers lose precision above 2^53.
/// </summary>
public static class Ids
{
    /// <summary>Parses <paramref name="text"/>; false with a message naming <paramref name="name"/> otherwise.</summary>
    public static bool TryParse(string name, string? text, out long value, out string error)
    {
        value = 0;
        error = "";
        var s = text?.Trim() ?? "";
        if (s.Length == 0)
        {
            error = $"{name} is required (a 64-bit id: decimal, or hex with 0x)";
            return false;
        }

        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            var hex = s[2..];
            if (hex.Length is 0 or > 16 ||
                !ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var u))
            {
                error = $"{name} '{Shorten(s)}' is not a 64-bit hex id (0x followed by 1..16 hex digits)";
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

        error = $"{name} '{Shorten(s)}' is not a 64-bit id (decimal, or hex with 0x)";
        return false;
    }

    /// <summary>The JSON form: signed decimal.</summary>
    public static string Format(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The form used in log messages and error texts: 0x + 16 hex digits.</summary>
    public static string Hex(long id) => "0x" + id.ToString("x16", CultureInfo.InvariantCulture);

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
