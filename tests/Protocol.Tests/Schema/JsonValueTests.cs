using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Tests.Schema;

public class JsonValueTests
{
    internal static readonly JsonValue Sample = new JsonObject(
    [
        new JsonObjectValue("tz_offset", new JsonNumber(10800)),
        new JsonObjectValue("installer", new JsonString("com.android.vending")),
        new JsonObjectValue("data", new JsonArray([JsonNull.Instance, new JsonBool(true), new JsonBool(false), new JsonNumber(-0.5)])),
        new JsonObjectValue("nested", new JsonObject([new JsonObjectValue("k\"ey", new JsonString("ü\n"))])),
    ]);

    private static JsonValue RoundTrip(JsonValue value, int maxDepth = JsonValue.DefaultMaxDepth)
    {
        var r = new TlReader(value.ToBytes());
        Assert.True(JsonValue.TryRead(ref r, out var back, maxDepth), r.Error.ToString());
        Assert.True(r.AtEnd);
        return back;
    }

    [Fact]
    public void All_json_constructors_round_trip()
    {
        Assert.Equal(Sample, RoundTrip(Sample));
        Assert.Equal(new JsonArray([]), RoundTrip(new JsonArray([])));
        Assert.Equal(new JsonObject([]), RoundTrip(new JsonObject([])));
        Assert.Equal(new JsonNumber(double.NaN), RoundTrip(new JsonNumber(double.NaN)));
    }

    [Fact]
    public void Json_text_is_produced()
    {
        Assert.Equal(
            "{\"tz_offset\":10800,\"installer\":\"com.android.vending\",\"data\":[null,true,false,-0.5],\"nested\":{\"k\\u0022ey\":\"\\u00FC\\n\"}}",
            Sample.ToJson());
        Assert.Equal("[null,null]", new JsonArray([new JsonNumber(double.PositiveInfinity), new JsonNumber(double.NaN)]).ToJson());
    }

    private static JsonValue Nest(int levels)
    {
        JsonValue v = new JsonString("leaf");
        for (int i = 0; i < levels; i++) v = i % 2 == 0 ? new JsonArray([v]) : new JsonObject([new JsonObjectValue("k", v)]);
        return v;
    }

    [Fact]
    public void Nesting_is_limited()
    {
        Assert.Equal(Nest(16), RoundTrip(Nest(16), 16));
        var r = new TlReader(Nest(17).ToBytes());
        Assert.False(JsonValue.TryRead(ref r, out _, 16));
        Assert.Equal(TlError.TooDeep, r.Error);
        r = new TlReader(Nest(100_000 / 8).ToBytes());
        Assert.False(JsonValue.TryRead(ref r, out _));
        Assert.Equal(TlError.TooDeep, r.Error);
    }

    [Fact]
    public void Malformed_json_values_are_typed_errors()
    {
        var bytes = Sample.ToBytes();
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            var r = new TlReader(bytes.AsSpan(0, cut));
            Assert.False(JsonValue.TryRead(ref r, out _));
            Assert.True(r.Error is TlError.Truncated or TlError.BadLength, $"cut {cut}: {r.Error}");
        }
        var unknown = new TlReader([1, 2, 3, 4]);
        Assert.False(JsonValue.TryRead(ref unknown, out _));
        Assert.Equal(TlError.UnknownConstructor, unknown.Error);

        // An object field that is not a jsonObjectValue.
        using var w = new TlWriter();
        w.WriteUInt32(ConstructorIds.JsonObject);
        w.WriteVectorHeader(1);
        w.WriteUInt32(ConstructorIds.JsonNull);
        w.WriteBytes([]);
        w.WriteUInt32(ConstructorIds.JsonNull);
        var bad = new TlReader(w.WrittenSpan);
        Assert.False(JsonValue.TryRead(ref bad, out _));
        Assert.Equal(TlError.UnexpectedConstructor, bad.Error);
    }
}
