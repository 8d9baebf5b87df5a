using MtActors.Admin;

namespace MtActors.Grains.Tests.Tools;

/// <summary>The one 64-bit id parser of the CLI and the HTTP API.</summary>
public sealed class IdsTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("42", 42L)]
    [InlineData("-1", -1L)]
    [InlineData("-5", -5L)]
    [InlineData("+7", 7L)]
    [InlineData(" 42 ", 42L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("9223372036854775808", long.MinValue)] // unsigned: the same 64 bits
    [InlineData("18446744073709551615", -1L)]
    [InlineData("0x2a", 42L)]
    [InlineData("0X10", 16L)]
    [InlineData("0xffffffffffffffff", -1L)]
    [InlineData("0XFFFFFFFFFFFFFFFF", -1L)]
    [InlineData("0x8000000000000000", long.MinValue)]
    [InlineData("0x0000000000000001", 1L)]
    [InlineData("0x1122_3344_5566_7788", 0x1122334455667788L)]
    public void Decimal_signed_or_unsigned_and_hex_are_accepted(string text, long expected)
    {
        Assert.True(Ids.TryParse("session_id", text, out var value, out var error), error);
        Assert.Equal(expected, value);
        Assert.Equal("", error);
        Assert.Equal(expected, Ids.Parse("session_id", text));
    }

    [Theory]
    [InlineData(null, "session_id is required (a 64-bit id: decimal, or hex with 0x)")]
    [InlineData("", "session_id is required (a 64-bit id: decimal, or hex with 0x)")]
    [InlineData("   ", "session_id is required (a 64-bit id: decimal, or hex with 0x)")]
    [InlineData("0x", "session_id '0x' is not a 64-bit hex id (0x followed by 1..16 hex digits)")]
    [InlineData("0x10000000000000000", "session_id '0x10000000000000000' is not a 64-bit hex id (0x followed by 1..16 hex digits)")]
    [InlineData("0x-1", "session_id '0x-1' is not a 64-bit hex id (0x followed by 1..16 hex digits)")]
    [InlineData("0xZZ", "session_id '0xZZ' is not a 64-bit hex id (0x followed by 1..16 hex digits)")]
    [InlineData("18446744073709551616", "session_id '18446744073709551616' is out of the 64-bit range (-9223372036854775808..18446744073709551615)")]
    [InlineData("-9223372036854775809", "session_id '-9223372036854775809' is out of the 64-bit range (-9223372036854775808..18446744073709551615)")]
    [InlineData("1e5", "session_id '1e5' is not a 64-bit id (decimal, or hex with 0x)")]
    [InlineData("4 2", "session_id '4 2' is not a 64-bit id (decimal, or hex with 0x)")]
    [InlineData("42abc", "session_id '42abc' is not a 64-bit id (decimal, or hex with 0x)")]
    [InlineData("-", "session_id '-' is not a 64-bit id (decimal, or hex with 0x)")]
    [InlineData("1.5", "session_id '1.5' is not a 64-bit id (decimal, or hex with 0x)")]
    [InlineData("1,000", "session_id '1,000' is not a 64-bit id (decimal, or hex with 0x)")]
    public void Bad_ids_are_refused_with_one_line_naming_the_field_and_the_reason(string? text, string expected)
    {
        Assert.False(Ids.TryParse("session_id", text, out var value, out var error));
        Assert.Equal(0, value);
        Assert.Equal(expected, error);
        Assert.Equal(expected, Assert.Throws<FormatException>(() => Ids.Parse("session_id", text)).Message);
    }

    [Fact]
    public void A_long_bad_input_is_quoted_shortened()
    {
        Assert.False(Ids.TryParse("auth_key_id", new string('9', 5000), out _, out var error));
        Assert.StartsWith("auth_key_id '9999999999999999999999999999999999999999…' is out of the 64-bit range", error);
        Assert.True(error.Length < 200, error);
        Assert.DoesNotContain('\n', error);
    }

    [Theory]
    [InlineData(0L, "0", "0x0000000000000000")]
    [InlineData(42L, "42", "0x000000000000002a")]
    [InlineData(-1L, "-1", "0xffffffffffffffff")]
    [InlineData(long.MinValue, "-9223372036854775808", "0x8000000000000000")]
    public void Formats_round_trip(long id, string decimalText, string hex)
    {
        Assert.Equal(decimalText, Ids.Format(id));
        Assert.Equal(hex, Ids.Hex(id));
        Assert.Equal(id, Ids.Parse("id", Ids.Format(id)));
        Assert.Equal(id, Ids.Parse("id", Ids.Hex(id)));
    }
}
