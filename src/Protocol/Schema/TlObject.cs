using System.Collections.Immutable;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Schema;

/// <summary>
/// A boxed TL value of the service schema: an immutable record that knows its constructor id and how to
/// write itself (constructor id first). Records holding byte or id sequences compare them by content.
/// </summary>
public abstract record TlObject
{
    /// <summary>The constructor id written first by <see cref="WriteTo"/>.</summary>
    public abstract uint ConstructorId { get; }

    /// <summary>Writes the boxed object (constructor id, then its fields).</summary>
    public abstract void WriteTo(TlWriter writer);

    /// <summary>The boxed serialization as a new array.</summary>
    public byte[] ToBytes()
    {
        using var writer = new TlWriter();
        WriteTo(writer);
        return writer.ToArray();
    }
}

/// <summary>Content equality and hashing for the sequences held by schema records.</summary>
internal static class Seq
{
    public static bool Equal<T>(ImmutableArray<T> a, ImmutableArray<T> b) where T : IEquatable<T> =>
        a.AsSpan().SequenceEqual(b.AsSpan());

    public static int Hash<T>(ImmutableArray<T> a)
    {
        var hash = new HashCode();
        foreach (var item in a.AsSpan()) hash.Add(item);
        return hash.ToHashCode();
    }

    public static ImmutableArray<T> Own<T>(T[] array) =>
        System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(array);

    public static ImmutableArray<byte> Copy(ReadOnlySpan<byte> bytes) => Own(bytes.ToArray());

    /// <summary>Reads a boxed Vector&lt;long&gt; as an immutable array.</summary>
    public static ImmutableArray<long> ReadLongs(ref TlReader reader) => Own(reader.ReadLongVector());
}
