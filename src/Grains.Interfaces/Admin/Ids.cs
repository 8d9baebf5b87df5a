using System.Globalization;

namespace MtActors.Admin;

/// <summary>
/// 64-bit MTProto ids (auth_key_id, session_id, ...) as operators type them and as the tools print them; the one
/// parser of the mtactors CLI and the silo's HTTP API.
/// <list type="bullet">
/// <item>In: decimal, signed (-9223372036854775808..9223372036854775807) or unsigned up to 18446744073709551615 (read
/// as the same 64 bits), or <c>0x</c>-hex with 1..16 digits (the 64 bits as written; <c>_</c> may group digits).
/// Surrounding white space is ignored.</item>
/// <item>Out: <see cref="Format"/> (JSON: the signed decimal of the TL <c>long</c>, as a string, because JavaScript
/// numbers lose precision above 2^53) and <see cref="Hex"/> (text output, logs, error messages).</item>
/// </list>
/// </summary>
public static class Ids
{
    /// <summary>Longest piece of a bad input quoted back in an error message.</summary>
    private const int QuoteLength = 40;

    /// <summary>
    /// Parses <paramref name="text"/>; false with a one-line reason naming <paramref name="name"/> (e.g.
    /// <c>session_id</c>, <c>&lt;auth-key-id&gt;</c>) otherwise.
    /// </summary>
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
            var hex = s[2..].Replace("_", "", StringComparison.Ordinal);
            if (hex.Length is 0 or > 16 ||
                !ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var u))
            {
                error = $"{name} '{Quote(s)}' is not a 64-bit hex id (0x followed by 1..16 hex digits)";
                return false;
            }

            value = unchecked((long)u);
            return true;
        }

        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        if (ulong.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var unsigned))
        {
            value = unchecked((long)unsigned);
            return true;
        }

        error = IsInteger(s)
            ? $"{name} '{Quote(s)}' is out of the 64-bit range ({long.MinValue}..{ulong.MaxValue})"
            : $"{name} '{Quote(s)}' is not a 64-bit id (decimal, or hex with 0x)";
        return false;
    }

    /// <summary>Parses <paramref name="text"/> or throws <see cref="FormatException"/> with the reason.</summary>
    public static long Parse(string name, string? text) =>
        TryParse(name, text, out var value, out var error) ? value : throw new FormatException(error);

    /// <summary>The JSON form: the signed decimal.</summary>
    public static string Format(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The form of text output, logs and error messages: 0x + 16 hex digits.</summary>
    public static string Hex(long id) => "0x" + id.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>An optional sign, then decimal digits only.</summary>
    private static bool IsInteger(string s)
    {
        var digits = s.AsSpan(s[0] is '+' or '-' ? 1 : 0);
        return digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9');
    }

    private static string Quote(string s) => s.Length <= QuoteLength ? s : s[..QuoteLength] + "…";
}
