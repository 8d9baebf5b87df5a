using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace MtActors.Protocol.Tl;

/// <summary>
/// Reads TL values from a span. Never throws for malformed data: the first error is recorded in
/// <see cref="Error"/>, every later read returns a default value, and callers check <see cref="Ok"/>
/// once after a group of reads. No read allocates more than the bytes actually present.
/// </summary>
public ref struct TlReader
{
    public const uint VectorId = 0x1cb5c415;
    public const uint BoolTrueId = 0x997275b5;
    public const uint BoolFalseId = 0xbc799737;

    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;
    private TlError _error;

    public TlReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
        _error = TlError.None;
    }

    public readonly int Position => _position;
    public readonly int Remaining => _buffer.Length - _position;
    public readonly int Length => _buffer.Length;
    public readonly TlError Error => _error;
    public readonly bool Ok => _error == TlError.None;
    public readonly bool AtEnd => _position == _buffer.Length;

    /// <summary>The whole underlying buffer.</summary>
    public readonly ReadOnlySpan<byte> Buffer => _buffer;

    /// <summary>Records an error (the first one wins) and stops further reads.</summary>
    public void Fail(TlError error)
    {
        if (_error == TlError.None && error != TlError.None)
        {
            _error = error;
            _position = _buffer.Length;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Take(int count, out ReadOnlySpan<byte> span)
    {
        if (_error != TlError.None || (uint)count > (uint)(_buffer.Length - _position))
        {
            Fail(TlError.Truncated);
            span = default;
            return false;
        }
        span = _buffer.Slice(_position, count);
        _position += count;
        return true;
    }

    public int ReadInt32() => Take(4, out var s) ? BinaryPrimitives.ReadInt32LittleEndian(s) : 0;
    public uint ReadUInt32() => Take(4, out var s) ? BinaryPrimitives.ReadUInt32LittleEndian(s) : 0;
    public long ReadInt64() => Take(8, out var s) ? BinaryPrimitives.ReadInt64LittleEndian(s) : 0;
    public double ReadDouble() => Take(8, out var s) ? BinaryPrimitives.ReadDoubleLittleEndian(s) : 0;

    /// <summary>Looks at the next constructor id without consuming it (0 when fewer than 4 bytes remain).</summary>
    public readonly uint PeekUInt32() =>
        _error == TlError.None && _buffer.Length - _position >= 4
            ? BinaryPrimitives.ReadUInt32LittleEndian(_buffer.Slice(_position))
            : 0;

    /// <summary>Reads <paramref name="count"/> raw bytes (int128 = 16, int256 = 32, ...) as a slice of the input.</summary>
    public ReadOnlySpan<byte> ReadRaw(int count) => count >= 0 && Take(count, out var s) ? s : FailSpan(TlError.BadLength);

    public ReadOnlySpan<byte> ReadInt128() => ReadRaw(16);
    public ReadOnlySpan<byte> ReadInt256() => ReadRaw(32);

    /// <summary>Everything that is left, consumed.</summary>
    public ReadOnlySpan<byte> ReadRest() => ReadRaw(Remaining);

    public void Skip(int count) => ReadRaw(count);

    private ReadOnlySpan<byte> FailSpan(TlError e)
    {
        Fail(e);
        return default;
    }

    /// <summary>Reads a TL bytes/string value (both length forms, padding to 4 skipped) as a slice of the input.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        if (!Take(1, out var first)) return default;
        int length;
        int header;
        byte b = first[0];
        if (b <= 253)
        {
            length = b;
            header = 1;
        }
        else if (b == 254)
        {
            if (!Take(3, out var l)) return default;
            length = l[0] | (l[1] << 8) | (l[2] << 16);
            header = 4;
        }
        else
        {
            return FailSpan(TlError.BadLengthPrefix);
        }
        if (length > Remaining) return FailSpan(TlError.BadLength);
        Take(length, out var data);
        int pad = (4 - ((header + length) & 3)) & 3;
        if (pad > Remaining) return FailSpan(TlError.Truncated);
        _position += pad;
        return data;
    }

    /// <summary>Reads a TL string as UTF-8. Invalid UTF-8 is replaced, as clients do.</summary>
    public string ReadString()
    {
        var bytes = ReadBytes();
        return Ok ? Encoding.UTF8.GetString(bytes) : string.Empty;
    }

    /// <summary>Reads a TL bytes value into a new array (sized by the bytes present, never by a bare length field).</summary>
    public byte[] ReadBytesArray()
    {
        var bytes = ReadBytes();
        return Ok ? bytes.ToArray() : [];
    }

    /// <summary>
    /// Reads a constructor id and records <see cref="TlError.UnexpectedConstructor"/> unless it equals
    /// <paramref name="expected"/>. Returns whether the id matched (false also after an earlier error).
    /// </summary>
    public bool ExpectConstructor(uint expected)
    {
        uint id = ReadUInt32();
        if (!Ok) return false;
        if (id == expected) return true;
        Fail(TlError.UnexpectedConstructor);
        return false;
    }

    public bool ReadBool()
    {
        uint id = ReadUInt32();
        if (!Ok) return false;
        if (id == BoolTrueId) return true;
        if (id != BoolFalseId) Fail(TlError.BadBool);
        return false;
    }

    /// <summary>
    /// Reads a boxed vector header (0x1cb5c415 + count). The count is checked against the bytes left,
    /// given the smallest serialized size of one item, so callers may size a collection by it.
    /// </summary>
    public int ReadVectorHeader(int minItemSize)
    {
        uint id = ReadUInt32();
        if (!Ok) return 0;
        if (id != VectorId)
        {
            Fail(TlError.BadVectorHeader);
            return 0;
        }
        return ReadBareVectorCount(minItemSize);
    }

    /// <summary>Reads the count of a bare vector, checked like <see cref="ReadVectorHeader"/>.</summary>
    public int ReadBareVectorCount(int minItemSize)
    {
        int count = ReadInt32();
        if (!Ok) return 0;
        if (count < 0 || (minItemSize > 0 && (long)count * minItemSize > Remaining))
        {
            Fail(TlError.BadLength);
            return 0;
        }
        return count;
    }

    /// <summary>Reads a boxed Vector&lt;long&gt; into a new array.</summary>
    public long[] ReadLongVector()
    {
        int n = ReadVectorHeader(8);
        if (!Ok) return [];
        var result = new long[n];
        for (int i = 0; i < n; i++) result[i] = ReadInt64();
        return Ok ? result : [];
    }

    /// <summary>Records <see cref="TlError.TrailingData"/> when bytes are left.</summary>
    public void ExpectEnd()
    {
        if (Ok && !AtEnd) Fail(TlError.TrailingData);
    }
}
