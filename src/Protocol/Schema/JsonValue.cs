using System.Buffers;
using System.Collections.Immutable;
using System.Text.Json;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Schema;

/// <summary>
/// The TL JSONValue type (initConnection params): jsonNull, jsonBool, jsonNumber, jsonString, jsonArray,
/// jsonObject. (Same simple names as System.Text.Json.Nodes types; do not import both namespaces.)
/// </summary>
public abstract record JsonValue : TlObject
{
    /// <summary>Default nesting limit for <see cref="TryRead"/>.</summary>
    public const int DefaultMaxDepth = 16;

    /// <summary>
    /// Reads a boxed JSONValue. Arrays and objects nested deeper than <paramref name="maxDepth"/> fail
    /// with <see cref="TlError.TooDeep"/>; unknown constructors with <see cref="TlError.UnknownConstructor"/>.
    /// </summary>
    public static bool TryRead(ref TlReader r, out JsonValue value, int maxDepth = DefaultMaxDepth)
    {
        value = Read(ref r, maxDepth);
        if (!r.Ok) value = JsonNull.Instance;
        return r.Ok;
    }

    private static JsonValue Read(ref TlReader r, int depthLeft)
    {
        uint id = r.ReadUInt32();
        if (!r.Ok) return JsonNull.Instance;
        switch (id)
        {
            case ConstructorIds.JsonNull:
                return JsonNull.Instance;
            case ConstructorIds.JsonBool:
                return new JsonBool(r.ReadBool());
            case ConstructorIds.JsonNumber:
                return new JsonNumber(r.ReadDouble());
            case ConstructorIds.JsonString:
                return new JsonString(r.ReadString());
            case ConstructorIds.JsonArray:
            {
                if (depthLeft <= 0)
                {
                    r.Fail(TlError.TooDeep);
                    return JsonNull.Instance;
                }
                int count = r.ReadVectorHeader(4);
                var items = new JsonValue[count];
                for (int i = 0; i < count && r.Ok; i++) items[i] = Read(ref r, depthLeft - 1);
                return r.Ok ? new JsonArray(Seq.Own(items)) : JsonNull.Instance;
            }
            case ConstructorIds.JsonObject:
            {
                if (depthLeft <= 0)
                {
                    r.Fail(TlError.TooDeep);
                    return JsonNull.Instance;
                }
                int count = r.ReadVectorHeader(12); // id + empty key + jsonNull
                var fields = new JsonObjectValue[count];
                for (int i = 0; i < count && r.Ok; i++)
                {
                    if (!r.ExpectConstructor(ConstructorIds.JsonObjectValue)) break;
                    string key = r.ReadString();
                    fields[i] = new JsonObjectValue(key, Read(ref r, depthLeft - 1));
                }
                return r.Ok ? new JsonObject(Seq.Own(fields)) : JsonNull.Instance;
            }
            default:
                r.Fail(TlError.UnknownConstructor);
                return JsonNull.Instance;
        }
    }

    /// <summary>The value as JSON text. Non-finite numbers (which JSON cannot express) become null.</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            WriteJson(writer);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal abstract void WriteJson(Utf8JsonWriter writer);
}

/// <summary>jsonNull#3f6d7b68.</summary>
public sealed record JsonNull : JsonValue
{
    public static readonly JsonNull Instance = new();
    public override uint ConstructorId => ConstructorIds.JsonNull;
    public override void WriteTo(TlWriter writer) => writer.WriteUInt32(ConstructorId);
    internal override void WriteJson(Utf8JsonWriter writer) => writer.WriteNullValue();
}

/// <summary>jsonBool#c7345e6a value:Bool.</summary>
public sealed record JsonBool(bool Value) : JsonValue
{
    public override uint ConstructorId => ConstructorIds.JsonBool;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteBool(Value);
    }

    internal override void WriteJson(Utf8JsonWriter writer) => writer.WriteBooleanValue(Value);
}

/// <summary>jsonNumber#2be0dfa4 value:double.</summary>
public sealed record JsonNumber(double Value) : JsonValue
{
    public override uint ConstructorId => ConstructorIds.JsonNumber;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteDouble(Value);
    }

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        if (double.IsFinite(Value)) writer.WriteNumberValue(Value);
        else writer.WriteNullValue();
    }
}

/// <summary>jsonString#b71e767a value:string.</summary>
public sealed record JsonString(string Value) : JsonValue
{
    public override uint ConstructorId => ConstructorIds.JsonString;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteString(Value);
    }

    internal override void WriteJson(Utf8JsonWriter writer) => writer.WriteStringValue(Value);
}

/// <summary>jsonArray#f7444763 value:Vector&lt;JSONValue&gt;.</summary>
public sealed record JsonArray(ImmutableArray<JsonValue> Items) : JsonValue
{
    public override uint ConstructorId => ConstructorIds.JsonArray;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteVectorHeader(Items.Length);
        foreach (var item in Items.AsSpan()) item.WriteTo(writer);
    }

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartArray();
        foreach (var item in Items.AsSpan()) item.WriteJson(writer);
        writer.WriteEndArray();
    }

    public bool Equals(JsonArray? other) => other is not null && Items.AsSpan().SequenceEqual(other.Items.AsSpan());
    public override int GetHashCode() => Seq.Hash(Items);
}

/// <summary>jsonObjectValue#c0de1bd9 key:string value:JSONValue (one field of a <see cref="JsonObject"/>).</summary>
public sealed record JsonObjectValue(string Key, JsonValue Value);

/// <summary>jsonObject#99c1d49d value:Vector&lt;JSONObjectValue&gt; (fields in wire order; keys may repeat).</summary>
public sealed record JsonObject(ImmutableArray<JsonObjectValue> Fields) : JsonValue
{
    public override uint ConstructorId => ConstructorIds.JsonObject;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteVectorHeader(Fields.Length);
        foreach (var field in Fields.AsSpan())
        {
            writer.WriteUInt32(ConstructorIds.JsonObjectValue);
            writer.WriteString(field.Key);
            field.Value.WriteTo(writer);
        }
    }

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var field in Fields.AsSpan())
        {
            writer.WritePropertyName(field.Key);
            field.Value.WriteJson(writer);
        }
        writer.WriteEndObject();
    }

    public bool Equals(JsonObject? other) => other is not null && Fields.AsSpan().SequenceEqual(other.Fields.AsSpan());
    public override int GetHashCode() => Seq.Hash(Fields);
}
