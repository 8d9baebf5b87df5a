using System.Buffers.Binary;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Handshake;

/// <summary>Constructor ids of the auth-key creation messages (spec §3, first table).</summary>
public static class HandshakeIds
{
    public const uint ReqPq = 0x60469778;
    public const uint ReqPqMulti = 0xbe7e8ef1;
    public const uint ResPq = 0x05162463;
    public const uint PQInnerData = 0x83c95aec;
    public const uint PQInnerDataDc = 0xa9f55f95;
    public const uint PQInnerDataTemp = 0x3c6a84d4;
    public const uint PQInnerDataTempDc = 0x56fddf88;
    public const uint ReqDhParams = 0xd712e4be;
    public const uint ServerDhParamsFail = 0x79cb045d;
    public const uint ServerDhParamsOk = 0xd0e8075c;
    public const uint ServerDhInnerData = 0xb5890dba;
    public const uint SetClientDhParams = 0xf5045f1f;
    public const uint ClientDhInnerData = 0x6643b654;
    public const uint DhGenOk = 0x3bcbf734;
    public const uint DhGenRetry = 0x46dc1fb9;
    public const uint DhGenFail = 0xa69dae02;
}

/// <summary>int128 / int256 helpers: nonces are raw bytes copied verbatim; an int128 is kept as the UInt128 read
/// little-endian, which writes back to the same 16 bytes.</summary>
internal static class TlNonce
{
    public static UInt128 Read128(ref TlReader r)
    {
        var s = r.ReadInt128();
        return r.Ok ? BinaryPrimitives.ReadUInt128LittleEndian(s) : default;
    }

    public static void Write128(TlWriter w, UInt128 value) => BinaryPrimitives.WriteUInt128LittleEndian(w.GetSpanAndAdvance(16), value);

    public static Span<byte> GetSpanAndAdvance(this TlWriter w, int count)
    {
        var span = w.GetSpan(count)[..count];
        w.Advance(count);
        return span;
    }

    public static byte[] ToBytes(UInt128 value)
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(b, value);
        return b;
    }

    /// <summary>Reads the constructor id and fails the reader when it is not <paramref name="expected"/>.</summary>
    public static bool ExpectId(ref TlReader r, uint expected)
    {
        uint id = r.ReadUInt32();
        if (!r.Ok) return false;
        if (id == expected) return true;
        r.Fail(TlError.UnexpectedConstructor);
        return false;
    }
}

/// <summary>req_pq#60469778 / req_pq_multi#be7e8ef1 nonce:int128 (C->S).</summary>
public sealed record ReqPq(bool Multi, UInt128 Nonce)
{
    public static bool TryRead(ref TlReader r, out ReqPq value)
    {
        uint id = r.ReadUInt32();
        var nonce = TlNonce.Read128(ref r);
        if (r.Ok && id != HandshakeIds.ReqPq && id != HandshakeIds.ReqPqMulti) r.Fail(TlError.UnexpectedConstructor);
        value = r.Ok ? new ReqPq(id == HandshakeIds.ReqPqMulti, nonce) : null!;
        return r.Ok;
    }

    public void Write(TlWriter w)
    {
        w.WriteUInt32(Multi ? HandshakeIds.ReqPqMulti : HandshakeIds.ReqPq);
        TlNonce.Write128(w, Nonce);
    }
}

/// <summary>resPQ#05162463 nonce server_nonce pq:string server_public_key_fingerprints:Vector&lt;long&gt; (S->C).</summary>
public sealed record ResPq(UInt128 Nonce, UInt128 ServerNonce, byte[] Pq, long[] Fingerprints)
{
    public static bool TryRead(ref TlReader r, out ResPq value)
    {
        TlNonce.ExpectId(ref r, HandshakeIds.ResPq);
        var nonce = TlNonce.Read128(ref r);
        var serverNonce = TlNonce.Read128(ref r);
        var pq = r.ReadBytes().ToArray();
        var fingerprints = r.ReadLongVector();
        value = r.Ok ? new ResPq(nonce, serverNonce, pq, fingerprints) : null!;
        return r.Ok;
    }

    public void Write(TlWriter w)
    {
        w.WriteUInt32(HandshakeIds.ResPq);
        TlNonce.Write128(w, Nonce);
        TlNonce.Write128(w, ServerNonce);
        w.WriteBytes(Pq);
        w.WriteLongVector(Fingerprints);
    }
}

/// <summary>Which p_q_inner_data constructor a client used.</summary>
public enum PqInnerDataKind
{
    /// <summary>p_q_inner_data#83c95aec (old clients, e.g. GramJS).</summary>
    Plain,
    /// <summary>p_q_inner_data_dc#a9f55f95 (+ dc:int).</summary>
    Dc,
    /// <summary>p_q_inner_data_temp#3c6a84d4 (+ expires_in:int): a temporary key.</summary>
    Temp,
    /// <summary>p_q_inner_data_temp_dc#56fddf88 (+ dc:int expires_in:int): a temporary key.</summary>
    TempDc,
}

/// <summary>
/// p_q_inner_data* pq:string p:string q:string nonce:int128 server_nonce:int128 new_nonce:int256 [dc:int] [expires_in:int],
/// the plaintext inside req_DH_params.encrypted_data.
/// </summary>
public sealed record PqInnerData(
    PqInnerDataKind Kind, byte[] Pq, byte[] P, byte[] Q, UInt128 Nonce, UInt128 ServerNonce, byte[] NewNonce, int? Dc, int? ExpiresIn)
{
    public bool IsTemporary => Kind is PqInnerDataKind.Temp or PqInnerDataKind.TempDc;

    /// <summary>Reads one variant; trailing bytes (the random padding) are left unread.</summary>
    public static bool TryRead(ref TlReader r, out PqInnerData value)
    {
        uint id = r.ReadUInt32();
        PqInnerDataKind kind = id switch
        {
            HandshakeIds.PQInnerData => PqInnerDataKind.Plain,
            HandshakeIds.PQInnerDataDc => PqInnerDataKind.Dc,
            HandshakeIds.PQInnerDataTemp => PqInnerDataKind.Temp,
            HandshakeIds.PQInnerDataTempDc => PqInnerDataKind.TempDc,
            _ => (PqInnerDataKind)(-1),
        };
        if (r.Ok && (int)kind < 0) r.Fail(TlError.UnexpectedConstructor);
        var pq = r.ReadBytes().ToArray();
        var p = r.ReadBytes().ToArray();
        var q = r.ReadBytes().ToArray();
        var nonce = TlNonce.Read128(ref r);
        var serverNonce = TlNonce.Read128(ref r);
        var newNonce = r.ReadInt256().ToArray();
        int? dc = kind is PqInnerDataKind.Dc or PqInnerDataKind.TempDc ? r.ReadInt32() : null;
        int? expiresIn = kind is PqInnerDataKind.Temp or PqInnerDataKind.TempDc ? r.ReadInt32() : null;
        value = r.Ok ? new PqInnerData(kind, pq, p, q, nonce, serverNonce, newNonce, dc, expiresIn) : null!;
        return r.Ok;
    }

    public void Write(TlWriter w)
    {
        w.WriteUInt32(Kind switch
        {
            PqInnerDataKind.Plain => HandshakeIds.PQInnerData,
            PqInnerDataKind.Dc => HandshakeIds.PQInnerDataDc,
            PqInnerDataKind.Temp => HandshakeIds.PQInnerDataTemp,
            _ => HandshakeIds.PQInnerDataTempDc,
        });
        w.WriteBytes(Pq);
        w.WriteBytes(P);
        w.WriteBytes(Q);
        TlNonce.Write128(w, Nonce);
        TlNonce.Write128(w, ServerNonce);
        w.WriteRaw(NewNonce);
        if (Kind is PqInnerDataKind.Dc or PqInnerDataKind.TempDc) w.WriteInt32(Dc ?? 0);
        if (Kind is PqInnerDataKind.Temp or PqInnerDataKind.TempDc) w.WriteInt32(ExpiresIn ?? 0);
    }

    public override string ToString() => $"{Kind} dc={Dc} expires_in={ExpiresIn}"; // never prints new_nonce
}

/// <summary>req_DH_params#d712e4be nonce server_nonce p:string q:string public_key_fingerprint:long encrypted_data:string (C->S).</summary>
public sealed record ReqDhParams(UInt128 Nonce, UInt128 ServerNonce, byte[] P, byte[] Q, long Fingerprint, byte[] EncryptedData)
{
    public static bool TryRead(ref TlReader r, out ReqDhParams value)
    {
        TlNonce.ExpectId(ref r, HandshakeIds.ReqDhParams);
        var nonce = TlNonce.Read128(ref r);
        var serverNonce = TlNonce.Read128(ref r);
        var p = r.ReadBytes().ToArray();
        var q = r.ReadBytes().ToArray();
        long fingerprint = r.ReadInt64();
        var data = r.ReadBytes().ToArray();
        value = r.Ok ? new ReqDhParams(nonce, serverNonce, p, q, fingerprint, data) : null!;
        return r.Ok;
    }

    public void Write(TlWriter w)
    {
        w.WriteUInt32(HandshakeIds.ReqDhParams);
        TlNonce.Write128(w, Nonce);
        TlNonce.Write128(w, ServerNonce);
        w.WriteBytes(P);
        w.WriteBytes(Q);
        w.WriteInt64(Fingerprint);
        w.WriteBytes(EncryptedData);
    }
}

/// <summary>server_DH_params_ok#d0e8075c nonce server_nonce encrypted_answer:string (S->C).</summary>
public sealed record ServerDhParamsOk(UInt128 Nonce, UInt128 ServerNonce, byte[] EncryptedAnswer)
{
    public static bool TryRead(ref TlReader r, out ServerDhParamsOk value)
    {
        TlNonce.ExpectId(ref r, HandshakeIds.ServerDhParamsOk);
        var nonce = TlNonce.Read128(ref r);
        var serverNonce = TlNonce.Read128(ref r);
        var answer = r.ReadBytes().ToArray();
        value = r.Ok ? new ServerDhParamsOk(nonce, serverNonce, answer) : null!;
        return r.Ok;
    }

    public void Write(TlWriter w)
    {
        w.WriteUInt32(HandshakeIds.ServerDhParamsOk);
        TlNonce.Write128(w, Nonce);
        TlNonce.Write128(w, ServerNonce);
        w.WriteBytes(EncryptedAnswer);
    }
}

/// <summary>server_DH_params_fail#79cb045d nonce server_nonce new_nonce_hash:int128 (S->C; servers use -404 instead).</summary>
public sealed record ServerDhParamsFail(UInt128 Nonce, UInt128 ServerNonce, UInt128 NewNonceHash)
{
    public static bool TryRead(ref TlReader r, out ServerDhParamsFail value)
    {
        TlNonce.ExpectId(ref r, HandshakeIds.ServerDhParamsFail);
        var nonce = TlNonce.Read128(ref r);
        var serverNonce = TlNonce.Read128(ref r);
        var hash = TlNonce.Read128(ref r);
        value = r.Ok ? new ServerDhParamsFail(nonce, serverNonce, hash) : null!;
        return r.Ok;
    }

    public void Write(TlWriter w)
    {
        w.WriteUInt32(HandshakeIds.ServerDhParamsFail);
        TlNonce.Write128(w, Nonce);
        TlNonce.Write128(w, ServerNonce);
        TlNonce.Write128(w, NewNonceHash);
    }
}

/// <summary>server_DH_inner_data#b5890dba nonce server_nonce g:int dh_prime:string g_a:string server_time:int (inside encrypted_answer).</summary>
public sealed record ServerDhInnerData(UInt128 Nonce, UInt128 ServerNonce, int G, byte[] DhPrime, byte[] GA, int ServerTime)
{
    public static bool TryRead(ref TlReader r, out ServerDhInnerData value)
    {
        TlNonce.ExpectId(ref r, HandshakeIds.ServerDhInnerData);
        var nonce = TlNonce.Read128(ref r);
        var serverNonce = TlNonce.Read128(ref r);
        int g = r.ReadInt32();
        var prime = r.ReadBytes().ToArray();
        var ga = r.ReadBytes().ToArray();
        int time = r.ReadInt32();
        value = r.Ok ? new ServerDhInnerData(nonce, serverNonce, g, prime, ga, time) : null!;
        return r.Ok;
    }

    public void Write(TlWriter w)
    {
        w.WriteUInt32(HandshakeIds.ServerDhInnerData);
        TlNonce.Write128(w, Nonce);
        TlNonce.Write128(w, ServerNonce);
        w.WriteInt32(G);
        w.WriteBytes(DhPrime);
        w.WriteBytes(GA);
        w.WriteInt32(ServerTime);
    }
}

/// <summary>set_client_DH_params#f5045f1f nonce server_nonce encrypted_data:string (C->S).</summary>
public sealed record SetClientDhParams(UInt128 Nonce, UInt128 ServerNonce, byte[] EncryptedData)
{
    public static bool TryRead(ref TlReader r, out SetClientDhParams value)
    {
        TlNonce.ExpectId(ref r, HandshakeIds.SetClientDhParams);
        var nonce = TlNonce.Read128(ref r);
        var serverNonce = TlNonce.Read128(ref r);
        var data = r.ReadBytes().ToArray();
        value = r.Ok ? new SetClientDhParams(nonce, serverNonce, data) : null!;
        return r.Ok;
    }

    public void Write(TlWriter w)
    {
        w.WriteUInt32(HandshakeIds.SetClientDhParams);
        TlNonce.Write128(w, Nonce);
        TlNonce.Write128(w, ServerNonce);
        w.WriteBytes(EncryptedData);
    }
}

/// <summary>client_DH_inner_data#6643b654 nonce server_nonce retry_id:long g_b:string (inside encrypted_data).</summary>
public sealed record ClientDhInnerData(UInt128 Nonce, UInt128 ServerNonce, long RetryId, byte[] GB)
{
    public static bool TryRead(ref TlReader r, out ClientDhInnerData value)
    {
        TlNonce.ExpectId(ref r, HandshakeIds.ClientDhInnerData);
        var nonce = TlNonce.Read128(ref r);
        var serverNonce = TlNonce.Read128(ref r);
        long retryId = r.ReadInt64();
        var gb = r.ReadBytes().ToArray();
        value = r.Ok ? new ClientDhInnerData(nonce, serverNonce, retryId, gb) : null!;
        return r.Ok;
    }

    public void Write(TlWriter w)
    {
        w.WriteUInt32(HandshakeIds.ClientDhInnerData);
        TlNonce.Write128(w, Nonce);
        TlNonce.Write128(w, ServerNonce);
        w.WriteInt64(RetryId);
        w.WriteBytes(GB);
    }
}

/// <summary>The three answers to set_client_DH_params.</summary>
public enum DhGenKind
{
    /// <summary>dh_gen_ok#3bcbf734 with new_nonce_hash1: the key is stored.</summary>
    Ok = 1,
    /// <summary>dh_gen_retry#46dc1fb9 with new_nonce_hash2: send a new g_b with retry_id = aux hash.</summary>
    Retry = 2,
    /// <summary>dh_gen_fail#a69dae02 with new_nonce_hash3: start over.</summary>
    Fail = 3,
}

/// <summary>dh_gen_ok / dh_gen_retry / dh_gen_fail nonce server_nonce new_nonce_hashN:int128 (S->C).</summary>
public sealed record DhGenResult(DhGenKind Kind, UInt128 Nonce, UInt128 ServerNonce, UInt128 NewNonceHash)
{
    public static uint IdOf(DhGenKind kind) => kind switch
    {
        DhGenKind.Ok => HandshakeIds.DhGenOk,
        DhGenKind.Retry => HandshakeIds.DhGenRetry,
        _ => HandshakeIds.DhGenFail,
    };

    public static bool TryRead(ref TlReader r, out DhGenResult value)
    {
        uint id = r.ReadUInt32();
        DhGenKind kind = id switch
        {
            HandshakeIds.DhGenOk => DhGenKind.Ok,
            HandshakeIds.DhGenRetry => DhGenKind.Retry,
            HandshakeIds.DhGenFail => DhGenKind.Fail,
            _ => 0,
        };
        if (r.Ok && kind == 0) r.Fail(TlError.UnexpectedConstructor);
        var nonce = TlNonce.Read128(ref r);
        var serverNonce = TlNonce.Read128(ref r);
        var hash = TlNonce.Read128(ref r);
        value = r.Ok ? new DhGenResult(kind, nonce, serverNonce, hash) : null!;
        return r.Ok;
    }

    public void Write(TlWriter w)
    {
        w.WriteUInt32(IdOf(Kind));
        TlNonce.Write128(w, Nonce);
        TlNonce.Write128(w, ServerNonce);
        TlNonce.Write128(w, NewNonceHash);
    }
}
