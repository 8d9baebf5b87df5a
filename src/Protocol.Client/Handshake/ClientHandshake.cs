using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Client.Handshake;

/// <summary>Where a client-side key exchange stands.</summary>
public enum ClientHandshakePhase
{
    /// <summary><see cref="ClientHandshake.Start"/> not called yet.</summary>
    NotStarted,
    /// <summary>req_pq_multi sent.</summary>
    AwaitingResPq,
    /// <summary>req_DH_params sent.</summary>
    AwaitingServerDh,
    /// <summary>set_client_DH_params sent.</summary>
    AwaitingDhGen,
    /// <summary>dh_gen_ok received: the key is ready.</summary>
    Completed,
    /// <summary>Failed; create a new exchange.</summary>
    Failed,
}

/// <summary>
/// The client side of MTProto auth-key creation (spec §6) as a pure state machine: no I/O, not thread-safe.
/// <see cref="Start"/> gives req_pq_multi; feed each unencrypted answer body to <see cref="Handle"/>, which says what
/// to send next, or that the key is ready, or why the exchange failed.
/// </summary>
/// <remarks>
/// Client duties: RSA_PAD encryption of p_q_inner_data* with the server's public key, pq factorisation,
/// server_DH_inner_data checks (SHA1, nonces, dh_prime equal to the known safe prime, g a generator of the quadratic
/// residues, g_a and g_b in (2^1984, p - 2^1984)), the 256-byte key g_a^b mod p (left-padded), new_nonce_hash1, and
/// dh_gen_retry: a new b with retry_id = auth_key_aux_hash of the refused key. Servers differ on the hash of a refused
/// key whose top byte is zero (some hash the 255-byte stripped form), so new_nonce_hash2/3 are accepted for either.
/// </remarks>
public sealed class ClientHandshake : IDisposable
{
    private static readonly BigInteger s_prime = new(DhGroup.TelegramPrime, isUnsigned: true, isBigEndian: true);

    private readonly ClientHandshakeOptions _options;
    private readonly TimeProvider _time;
    private readonly HandshakeRandom _random;

    private UInt128 _nonce;
    private UInt128 _serverNonce;
    private byte[] _newNonce = new byte[32];
    private byte[] _tmpKey = new byte[32];
    private byte[] _tmpIv = new byte[32];
    private byte[] _gA = new byte[DhGroup.PrimeBytes];
    private byte[] _b = new byte[DhGroup.PrimeBytes];
    private byte[] _authKey = new byte[DhGroup.PrimeBytes];
    private int _g;
    private TimeSpan _timeOffset;
    private long _retryId;
    private int _retries;

    public ClientHandshake(ClientHandshakeOptions options, TimeProvider? time = null, HandshakeRandom? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = time ?? TimeProvider.System;
        _random = random ?? RandomNumberGenerator.Fill;
    }

    public ClientHandshakePhase Phase { get; private set; }

    /// <summary>The server key used (after resPQ), or null.</summary>
    public RsaPublicKey? UsedKey { get; private set; }

    /// <summary>dh_gen_retry answers followed so far.</summary>
    public int Retries => _retries;

    /// <summary>The nonce of this exchange (for logs and tests).</summary>
    public UInt128 Nonce => _nonce;

    /// <summary>Starts the exchange: the body of req_pq_multi (or req_pq) to send.</summary>
    public byte[] Start()
    {
        if (Phase != ClientHandshakePhase.NotStarted) throw new InvalidOperationException("The exchange has already started.");
        Span<byte> n = stackalloc byte[16];
        _random(n);
        _nonce = BinaryPrimitives.ReadUInt128LittleEndian(n);
        Phase = ClientHandshakePhase.AwaitingResPq;
        return Serialize(new ReqPq(_options.UseReqPqMulti, _nonce).Write);
    }

    /// <summary>Handles one unencrypted answer body from the server. Never throws for malformed input.</summary>
    public ClientHandshakeStep Handle(ReadOnlySpan<byte> body)
    {
        var step = Phase switch
        {
            ClientHandshakePhase.AwaitingResPq => HandleResPq(body),
            ClientHandshakePhase.AwaitingServerDh => HandleServerDh(body),
            ClientHandshakePhase.AwaitingDhGen => HandleDhGen(body),
            ClientHandshakePhase.NotStarted => throw new InvalidOperationException("Call Start first."),
            _ => new ClientHandshakeStep.Failed(ClientHandshakeError.Finished, "The exchange has already finished."),
        };
        if (step is ClientHandshakeStep.Failed && Phase != ClientHandshakePhase.Completed)
        {
            Phase = ClientHandshakePhase.Failed;
            Wipe();
        }
        return step;
    }

    private ClientHandshakeStep HandleResPq(ReadOnlySpan<byte> body)
    {
        var r = new TlReader(body);
        if (r.PeekUInt32() != HandshakeIds.ResPq) return Unexpected(body, "resPQ");
        if (!ResPq.TryRead(ref r, out var resPq) || !End(ref r)) return Fail(ClientHandshakeError.Malformed, "resPQ does not parse.");
        if (resPq.Nonce != _nonce) return Fail(ClientHandshakeError.NonceMismatch, "resPQ carries another nonce.");

        RsaPublicKey? key = null;
        foreach (long fp in resPq.Fingerprints)
        {
            key = _options.ServerKeys.FirstOrDefault(k => k.Fingerprint == fp);
            if (key is not null) break;
        }
        if (key is null)
        {
            return Fail(ClientHandshakeError.NoKnownFingerprint,
                $"The server offers fingerprints {string.Join(", ", resPq.Fingerprints.Select(f => $"0x{(ulong)f:x16}"))}; we trust " +
                string.Join(", ", _options.ServerKeys.Select(k => $"0x{(ulong)k.Fingerprint:x16}")) + ".");
        }
        if (!PqFactorizer.TryReadBigEndian(resPq.Pq, out ulong pq) || !PqFactorizer.TryFactor(pq, out ulong p, out ulong q))
        {
            return Fail(ClientHandshakeError.BadPq, "pq is not a product of two factors below 2^63.");
        }
        UsedKey = key;
        _serverNonce = resPq.ServerNonce;
        _random(_newNonce);

        var inner = new PqInnerData(_options.InnerData, PqFactorizer.ToBigEndian(pq), PqFactorizer.ToBigEndian(p), PqFactorizer.ToBigEndian(q),
            _nonce, _serverNonce, _newNonce,
            _options.InnerData is PqInnerDataKind.Dc or PqInnerDataKind.TempDc ? _options.DcId : null,
            _options.IsTemporary ? _options.ExpiresIn : null);
        var data = Serialize(inner.Write);
        var encrypted = RsaPadEncrypt(data, key, _random);
        CryptographicOperations.ZeroMemory(data);
        Phase = ClientHandshakePhase.AwaitingServerDh;
        return new ClientHandshakeStep.Send(Serialize(new ReqDhParams(_nonce, _serverNonce, PqFactorizer.ToBigEndian(p),
            PqFactorizer.ToBigEndian(q), key.Fingerprint, encrypted).Write));
    }

    /// <summary>
    /// RSA_PAD (spec §6.2 A): data padded to 192 random-filled bytes, reversed, hashed with a random temp key,
    /// AES-256-IGE with that key and a zero IV, the key masked with SHA256 of the ciphertext; redrawn until the
    /// 256-byte block is below n; then raw RSA with the public exponent.
    /// </summary>
    public static byte[] RsaPadEncrypt(ReadOnlySpan<byte> data, RsaPublicKey key, HandshakeRandom random)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (data.Length > 144) throw new ArgumentException("RSA_PAD carries at most 144 bytes of data.", nameof(data));
        Span<byte> work = stackalloc byte[32 + 192 + 224 + 32 + 256];
        var tempKey = work[..32];
        var dataWithPadding = work.Slice(32, 192);           // tempKey || dataWithPadding is the hash input
        var dataWithHash = work.Slice(224, 224);
        var sha = work.Slice(448, 32);
        var block = work.Slice(480, 256);
        var result = new byte[256];
        try
        {
            data.CopyTo(dataWithPadding);
            random(dataWithPadding[data.Length..]);
            Span<byte> zeroIv = stackalloc byte[32];
            zeroIv.Clear();
            for (int attempt = 0; ; attempt++)
            {
                if (attempt == 64) throw new CryptographicException("The random source keeps producing RSA blocks above the modulus.");
                random(tempKey);
                dataWithPadding.CopyTo(dataWithHash);
                dataWithHash[..192].Reverse();
                SHA256.HashData(work[..224], dataWithHash[192..]);
                AesIge.Encrypt(tempKey, zeroIv, dataWithHash, block[32..]);
                SHA256.HashData(block[32..], sha);
                for (int i = 0; i < 32; i++) block[i] = (byte)(tempKey[i] ^ sha[i]);
                if (key.IsBelowModulus(block)) break;
            }
            key.EncryptRaw(block, result);
            return result;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(work);
        }
    }

    private ClientHandshakeStep HandleServerDh(ReadOnlySpan<byte> body)
    {
        var r = new TlReader(body);
        uint id = r.PeekUInt32();
        if (id == HandshakeIds.ServerDhParamsFail)
        {
            if (!ServerDhParamsFail.TryRead(ref r, out var fail) || !End(ref r)) return Fail(ClientHandshakeError.Malformed, "server_DH_params_fail does not parse.");
            if (fail.Nonce != _nonce || fail.ServerNonce != _serverNonce) return Fail(ClientHandshakeError.NonceMismatch, "server_DH_params_fail carries other nonces.");
            return fail.NewNonceHash == HandshakeCrypto.NewNonceHash(_newNonce)
                ? Fail(ClientHandshakeError.ServerDhParamsFail, "The server refused req_DH_params (server_DH_params_fail).")
                : Fail(ClientHandshakeError.NewNonceHashMismatch, "server_DH_params_fail carries a wrong new_nonce_hash.");
        }
        if (id != HandshakeIds.ServerDhParamsOk) return Unexpected(body, "server_DH_params_ok");
        if (!ServerDhParamsOk.TryRead(ref r, out var ok) || !End(ref r)) return Fail(ClientHandshakeError.Malformed, "server_DH_params_ok does not parse.");
        if (ok.Nonce != _nonce || ok.ServerNonce != _serverNonce) return Fail(ClientHandshakeError.NonceMismatch, "server_DH_params_ok carries other nonces.");

        var encrypted = ok.EncryptedAnswer;
        if (encrypted.Length % 16 != 0 || encrypted.Length < 20 + 4 || encrypted.Length > 1024)
        {
            return Fail(ClientHandshakeError.BadAnswer, $"encrypted_answer has {encrypted.Length} bytes.");
        }
        Span<byte> serverNonceBytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(serverNonceBytes, _serverNonce);
        HandshakeCrypto.DeriveTmpAes(_newNonce, serverNonceBytes, _tmpKey, _tmpIv);
        var plain = new byte[encrypted.Length];
        AesIge.Decrypt(_tmpKey, _tmpIv, encrypted, plain);
        var innerReader = new TlReader(plain.AsSpan(20));
        if (innerReader.PeekUInt32() != HandshakeIds.ServerDhInnerData || !ServerDhInnerData.TryRead(ref innerReader, out var inner)
            || innerReader.Remaining > 15)
        {
            return Fail(ClientHandshakeError.BadAnswer, "The decrypted answer is not server_DH_inner_data (wrong key or corrupt).");
        }
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(plain.AsSpan(20, innerReader.Position), hash);
        if (!CryptographicOperations.FixedTimeEquals(hash, plain.AsSpan(0, 20))) return Fail(ClientHandshakeError.BadAnswer, "SHA1 of server_DH_inner_data does not match.");
        if (inner.Nonce != _nonce || inner.ServerNonce != _serverNonce) return Fail(ClientHandshakeError.NonceMismatch, "server_DH_inner_data carries other nonces.");
        if (!inner.DhPrime.AsSpan().SequenceEqual(DhGroup.TelegramPrime)) return Fail(ClientHandshakeError.UnknownDhPrime, "dh_prime is not the known safe prime.");
        if (!IsGoodGenerator(inner.G)) return Fail(ClientHandshakeError.BadGenerator, $"g = {inner.G} does not generate the quadratic residues of dh_prime.");
        var gaMinimal = TrimLeadingZeros(inner.GA);
        if (gaMinimal.Length > DhGroup.PrimeBytes) return Fail(ClientHandshakeError.GaOutOfRange, "g_a is longer than the prime.");
        Array.Clear(_gA);
        gaMinimal.CopyTo(_gA.AsSpan(DhGroup.PrimeBytes - gaMinimal.Length));
        if (!DhGroup.Telegram.IsInSafeRange(_gA)) return Fail(ClientHandshakeError.GaOutOfRange, "g_a is outside (2^1984, p - 2^1984).");

        _g = inner.G;
        _timeOffset = TimeSpan.FromSeconds(inner.ServerTime - _time.GetUtcNow().ToUnixTimeSeconds());
        _retryId = 0;
        Phase = ClientHandshakePhase.AwaitingDhGen;
        return new ClientHandshakeStep.Send(NewSetClientDhParams());
    }

    /// <summary>Draws b, computes g_b and the key, and builds set_client_DH_params with the current retry_id.</summary>
    private byte[] NewSetClientDhParams()
    {
        var gB = new byte[DhGroup.PrimeBytes];
        byte[] g = [(byte)_g];
        for (int attempt = 0; ; attempt++)
        {
            if (attempt == 64) throw new CryptographicException("The random source keeps producing out-of-range g_b values.");
            _random(_b);
            DhGroup.Telegram.ModPow(g, _b, gB, secretExponent: true);
            if (DhGroup.Telegram.IsInSafeRange(gB)) break;
        }
        DhGroup.Telegram.ModPow(_gA, _b, _authKey, secretExponent: true);

        var inner = Serialize(new ClientDhInnerData(_nonce, _serverNonce, _retryId, TrimLeadingZeros(gB).ToArray()).Write);
        int length = (20 + inner.Length + 15) & ~15;
        var plain = new byte[length];
        SHA1.HashData(inner, plain);
        inner.CopyTo(plain, 20);
        _random(plain.AsSpan(20 + inner.Length));
        var encrypted = new byte[length];
        AesIge.Encrypt(_tmpKey, _tmpIv, plain, encrypted);
        CryptographicOperations.ZeroMemory(plain);
        return Serialize(new SetClientDhParams(_nonce, _serverNonce, encrypted).Write);
    }

    private ClientHandshakeStep HandleDhGen(ReadOnlySpan<byte> body)
    {
        var r = new TlReader(body);
        uint id = r.PeekUInt32();
        if (id is not (HandshakeIds.DhGenOk or HandshakeIds.DhGenRetry or HandshakeIds.DhGenFail)) return Unexpected(body, "dh_gen_ok/retry/fail");
        if (!DhGenResult.TryRead(ref r, out var gen) || !End(ref r)) return Fail(ClientHandshakeError.Malformed, "dh_gen_* does not parse.");
        if (gen.Nonce != _nonce || gen.ServerNonce != _serverNonce) return Fail(ClientHandshakeError.NonceMismatch, "dh_gen_* carries other nonces.");

        var key = new AuthKey(_authKey);
        long fullAux = key.AuxHash;
        long strippedAux = StrippedAuxHash(_authKey);
        int n = (int)gen.Kind;
        bool hashOk = gen.NewNonceHash == HandshakeCrypto.NewNonceHash(_newNonce, n, fullAux)
            || (gen.Kind != DhGenKind.Ok && gen.NewNonceHash == HandshakeCrypto.NewNonceHash(_newNonce, n, strippedAux));
        if (!hashOk) return Fail(ClientHandshakeError.NewNonceHashMismatch, $"new_nonce_hash{n} of {gen.Kind} does not match our key.");

        switch (gen.Kind)
        {
            case DhGenKind.Ok:
            {
                Span<byte> sn = stackalloc byte[16];
                BinaryPrimitives.WriteUInt128LittleEndian(sn, _serverNonce);
                var result = new ClientAuthKey(key, ServerSalts.Initial(_newNonce, sn), _timeOffset,
                    _options.IsTemporary ? _options.ExpiresIn : 0, _retries, _time.GetUtcNow());
                Phase = ClientHandshakePhase.Completed;
                Wipe();
                return new ClientHandshakeStep.Completed(result);
            }
            case DhGenKind.Retry:
                if (_retries >= _options.MaxRetries) return Fail(ClientHandshakeError.TooManyRetries, $"The server asked for more than {_options.MaxRetries} retries.");
                _retries++;
                _retryId = fullAux;
                return new ClientHandshakeStep.Send(NewSetClientDhParams());
            default:
                return Fail(ClientHandshakeError.DhGenFail, "The server answered dh_gen_fail.");
        }
    }

    /// <summary>auth_key_aux_hash of the key without its leading zero bytes (how 255-byte-key clients compute it).</summary>
    public static long StrippedAuxHash(ReadOnlySpan<byte> key)
    {
        Span<byte> sha = stackalloc byte[20];
        SHA1.HashData(TrimLeadingZeros(key), sha);
        return BinaryPrimitives.ReadInt64LittleEndian(sha);
    }

    /// <summary>g in 2..7 with the quadratic-residue condition of spec §6.3 for the known prime.</summary>
    private static bool IsGoodGenerator(int g) => g switch
    {
        2 => s_prime % 8 == 7,
        3 => s_prime % 3 == 2,
        4 => true,
        5 => s_prime % 5 is var m5 && (m5 == 1 || m5 == 4),
        6 => s_prime % 24 is var m24 && (m24 == 19 || m24 == 23),
        7 => s_prime % 7 is var m7 && (m7 == 3 || m7 == 5 || m7 == 6),
        _ => false,
    };

    private ClientHandshakeStep Unexpected(ReadOnlySpan<byte> body, string expected)
    {
        uint id = body.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(body) : 0;
        return body.Length < 4
            ? Fail(ClientHandshakeError.Malformed, $"Expected {expected}; the answer has {body.Length} bytes.")
            : Fail(ClientHandshakeError.UnexpectedMessage, $"Expected {expected}; got constructor 0x{id:x8}.");
    }

    private static ClientHandshakeStep.Failed Fail(ClientHandshakeError error, string message) => new(error, message);

    private static bool End(ref TlReader r)
    {
        r.ExpectEnd();
        return r.Ok;
    }

    private static ReadOnlySpan<byte> TrimLeadingZeros(ReadOnlySpan<byte> value)
    {
        int i = 0;
        while (i < value.Length && value[i] == 0) i++;
        return value[i..];
    }

    private static byte[] Serialize(Action<TlWriter> write)
    {
        using var w = new TlWriter(640);
        write(w);
        return w.ToArray();
    }

    private void Wipe()
    {
        CryptographicOperations.ZeroMemory(_newNonce);
        CryptographicOperations.ZeroMemory(_tmpKey);
        CryptographicOperations.ZeroMemory(_tmpIv);
        CryptographicOperations.ZeroMemory(_b);
        CryptographicOperations.ZeroMemory(_authKey);
    }

    /// <summary>Wipes the exchange's secrets; an unfinished exchange counts as failed.</summary>
    public void Dispose()
    {
        if (Phase != ClientHandshakePhase.Completed) Phase = ClientHandshakePhase.Failed;
        Wipe();
    }
}
