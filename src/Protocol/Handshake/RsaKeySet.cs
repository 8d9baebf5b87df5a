namespace MtActors.Protocol.Handshake;

/// <summary>
/// The server's RSA private keys (one, or several during a rotation). resPQ lists all their fingerprints;
/// req_DH_params names the one the client used. Owns and disposes the keys.
/// </summary>
public sealed class RsaKeySet : IDisposable
{
    private readonly RsaServerKey[] _keys;
    private readonly long[] _fingerprints;

    public RsaKeySet(IEnumerable<RsaServerKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys.ToArray();
        if (_keys.Length == 0) throw new ArgumentException("At least one RSA key is needed.", nameof(keys));
        _fingerprints = new long[_keys.Length];
        for (int i = 0; i < _keys.Length; i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (_fingerprints[j] == _keys[i].Fingerprint)
                {
                    throw new ArgumentException($"Two RSA keys share the fingerprint 0x{(ulong)_fingerprints[j]:x16}.", nameof(keys));
                }
            }
            _fingerprints[i] = _keys[i].Fingerprint;
        }
    }

    public RsaKeySet(params RsaServerKey[] keys) : this((IEnumerable<RsaServerKey>)keys)
    {
    }

    public IReadOnlyList<RsaServerKey> Keys => _keys;

    /// <summary>The fingerprints in configuration order (what resPQ advertises).</summary>
    public ReadOnlySpan<long> Fingerprints => _fingerprints;

    public bool TryGet(long fingerprint, out RsaServerKey key)
    {
        for (int i = 0; i < _fingerprints.Length; i++)
        {
            if (_fingerprints[i] == fingerprint)
            {
                key = _keys[i];
                return true;
            }
        }
        key = null!;
        return false;
    }

    public void Dispose()
    {
        foreach (var k in _keys) k.Dispose();
    }
}
