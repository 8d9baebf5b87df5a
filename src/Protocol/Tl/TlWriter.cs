using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace MtActors.Protocol.Tl;

/// <summary>
/// Writes TL values into a growable buffer rented from <see cref="ArrayPool{T}"/>. Reusable
/// (<see cref="Reset"/>); <see cref="Dispose"/> returns the buffer. Space can be reserved and
/// patched later (for length fields written before their content).
/// </summary>
public sealed class TlWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _position;

    public TlWriter(int initialCapacity = 256)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(16, initialCapacity));
    }

    public int Length => _position;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _position);
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _position);
    public Span<byte> WrittenSpanMutable => _buffer.AsSpan(0, _position);

    public void Reset() => _position = 0;

    public byte[] ToArray() => WrittenSpan.ToArray();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Grow(int count)
    {
        if (_buffer.Length - _position < count) Expand(count);
        var span = _buffer.AsSpan(_position, count);
        _position += count;
        return span;
    }

    private void Expand(int count)
    {
        int wanted = checked(Math.Max(_buffer.Length * 2, _position + count));
        var next = ArrayPool<byte>.Shared.Rent(wanted);
        _buffer.AsSpan(0, _position).CopyTo(next);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Grow(4), value);
    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), value);
    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Grow(8), value);
    public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Grow(8), value);
    public void WriteBool(bool value) => WriteUInt32(value ? TlReader.BoolTrueId : TlReader.BoolFalseId);

    /// <summary>Raw bytes without a length (int128, int256, already serialized objects).</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grow(bytes.Length));

    /// <summary>An int128 (exactly 16 raw bytes).</summary>
    public void WriteInt128(ReadOnlySpan<byte> value)
    {
        if (value.Length != 16) throw new ArgumentException("int128 is 16 bytes.", nameof(value));
        WriteRaw(value);
    }

    /// <summary>An int256 (exactly 32 raw bytes).</summary>
    public void WriteInt256(ReadOnlySpan<byte> value)
    {
        if (value.Length != 32) throw new ArgumentException("int256 is 32 bytes.", nameof(value));
        WriteRaw(value);
    }

    /// <summary>TL bytes/string: short form up to 253 bytes, long form (0xfe + 3-byte length) above, padded to 4.</summary>
    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 0xFFFFFF) throw new ArgumentOutOfRangeException(nameof(bytes), "TL bytes are at most 16 MiB - 1.");
        int header = bytes.Length <= 253 ? 1 : 4;
        int pad = (4 - ((header + bytes.Length) & 3)) & 3;
        var span = Grow(header + bytes.Length + pad);
        if (header == 1)
        {
            span[0] = (byte)bytes.Length;
        }
        else
        {
            span[0] = 254;
            span[1] = (byte)bytes.Length;
            span[2] = (byte)(bytes.Length >> 8);
            span[3] = (byte)(bytes.Length >> 16);
        }
        bytes.CopyTo(span.Slice(header));
        span.Slice(header + bytes.Length).Clear();
    }

    public void WriteString(string value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 512)
        {
            Span<byte> tmp = stackalloc byte[max];
            int n = Encoding.UTF8.GetBytes(value, tmp);
            WriteBytes(tmp[..n]);
        }
        else
        {
            WriteBytes(Encoding.UTF8.GetBytes(value));
        }
    }

    public void WriteVectorHeader(int count)
    {
        WriteUInt32(TlReader.VectorId);
        WriteInt32(count);
    }

    public void WriteLongVector(ReadOnlySpan<long> values)
    {
        WriteVectorHeader(values.Length);
        foreach (var v in values) WriteInt64(v);
    }

    /// <summary>Reserves <paramref name="count"/> bytes and returns their offset, to be filled by a Patch call.</summary>
    public int Reserve(int count)
    {
        int offset = _position;
        Grow(count).Clear();
        return offset;
    }

    public void PatchInt32(int offset, int value) => BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(offset, 4), value);
    public void PatchInt64(int offset, long value) => BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(offset, 8), value);

    // IBufferWriter<byte>, so span-based encoders (gzip, crypto) can write straight into the buffer.
    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _position)) throw new ArgumentOutOfRangeException(nameof(count));
        _position += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_buffer.Length - _position < Math.Max(sizeHint, 1)) Expand(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_position);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        if (_buffer.Length - _position < Math.Max(sizeHint, 1)) Expand(Math.Max(sizeHint, 1));
        return _buffer.AsSpan(_position);
    }

    public void Dispose()
    {
        var b = _buffer;
        _buffer = [];
        _position = 0;
        if (b.Length > 0) ArrayPool<byte>.Shared.Return(b);
    }
}
