using System.Numerics;
using System.Security.Cryptography;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Handshake.Native;

namespace MtActors.Protocol.Tests.Handshake;

/// <summary>Keys generated once per test run (RSA-2048 generation takes a while).</summary>
internal static class TestKeys
{
    private static readonly Lazy<RsaServerKey> s_key = new(RsaServerKey.Generate);
    private static readonly Lazy<RsaServerKey> s_second = new(RsaServerKey.Generate);
    private static readonly Lazy<RsaKeySet> s_set = new(() => new RsaKeySet(s_second.Value, s_key.Value));

    public static RsaServerKey Key => s_key.Value;
    public static RsaServerKey Second => s_second.Value;

    /// <summary>Both keys; <see cref="Key"/> is the second in the set (clients pick by fingerprint).</summary>
    public static RsaKeySet Set => s_set.Value;
}

public sealed class RsaKeyTests
{
    // Public keys as published by their projects (test-vectors.md §C, §D).
    private const string TelegramProduction = """
        -----BEGIN RSA PUBLIC KEY-----
        MIIBCgKCAQEA6LszBcC1LGzyr992NzE0ieY+BSaOW622Aa9Bd4ZHLl+TuFQ4lo4g
        5nKaMBwK/BIb9xUfg0Q29/2mgIR6Zr9krM7HjuIcCzFvDtr+L0GQjae9H0pRB2OO
        62cECs5HKhT5DZ98K33vmWiLowc621dQuwKWSQKjWf50XYFw42h21P2KXUGyp2y/
        +aEyZ+uVgLLQbRA1dEjSDZ2iGRy12Mk5gpYc397aYp438fsJoHIgJ2lgMv5h7WY9
        t6N/byY9Nw9p21Og3AoXSL2q/2IJ1WRUhebgAdGVMlV1fkuOQoEzR7EdpqtQD9Cs
        5+bfo3Nhmcyvk5ftB0WkJ9z6bNZ7yxrP8wIDAQAB
        -----END RSA PUBLIC KEY-----
        """;

    private const string TelegramTest = """
        -----BEGIN RSA PUBLIC KEY-----
        MIIBCgKCAQEAyMEdY1aR+sCR3ZSJrtztKTKqigvO/vBfqACJLZtS7QMgCGXJ6XIR
        yy7mx66W0/sOFa7/1mAZtEoIokDP3ShoqF4fVNb6XeqgQfaUHd8wJpDWHcR2OFwv
        plUUI1PLTktZ9uW2WE23b+ixNwJjJGwBDJPQEQFBE+vfmH0JP503wr5INS1poWg/
        j25sIWeYPHYeOrFp/eXaqhISP6G+q2IeTaWTXpwZj4LzXq5YOpk4bYEQ6mvRq7D1
        aHWfYmlEGepfaYR8Q0YqvvhYtMte3ITnuSJs171+GDqpdKcSwHnd6FudwGO4pcCO
        j4WcDuXc2CTHgH8gFTNhp/Y8/SpDOhvn9QIDAQAB
        -----END RSA PUBLIC KEY-----
        """;

    private const string MtcuteKeysTest = """
        -----BEGIN RSA PUBLIC KEY-----
        MIIBCgKCAQEAruw2yP/BCcsJliRoW5eBVBVle9dtjJw+OYED160Wybum9SXtBBLX
        riwt4rROd9csv0t0OHCaTmRqBcQ0J8fxhN6/cpR1GWgOZRUAiQxoMnlt0R93LCX/
        j1dnVa/gVbCjdSxpbrfY2g2L4frzjJvdl84Kd9ORYjDEAyFnEA7dD556OptgLQQ2
        e2iVNq8NZLYTzLp5YpOdO1doK+ttrltggTCy5SrKeLoCPPbOgGsdxJxyz5KKcZnS
        Lj16yE5HvJQn0CNpRdENvRUXe6tBP78O39oJ8BTHp9oIjd6XWXAsp2CvK45Ol8wF
        XGF710w9lwCGNbmNxNYhtIkdqfsEcwR5JwIDAQAB
        -----END RSA PUBLIC KEY-----
        """;

    private const string MtcuteModulus =
        "aeec36c8ffc109cb099624685b97815415657bd76d8c9c3e398103d7ad16c9bba6f525ed0412d7ae2c2de2b44e77d72cbf4b7438709a4e646a05c43427c7f184" +
        "debf72947519680e651500890c6832796dd11f772c25ff8f576755afe055b0a3752c696eb7d8da0d8be1faf38c9bdd97ce0a77d3916230c4032167100edd0f9e" +
        "7a3a9b602d04367b689536af0d64b613ccba7962939d3b57682beb6dae5b608130b2e52aca78ba023cf6ce806b1dc49c72cf928a7199d22e3d7ac84e47bc9427" +
        "d0236945d10dbd15177bab413fbf0edfda09f014c7a7da088dde9759702ca760af2b8e4e97cc055c617bd74c3d97008635b98dc4d621b4891da9fb0473047927";

    private const string TelegramTestModulus =
        "c8c11d635691fac091dd9489aedced2932aa8a0bcefef05fa800892d9b52ed03200865c9e97211cb2ee6c7ae96d3fb0e15aeffd66019b44a08a240cfdd2868a8" +
        "5e1f54d6fa5deaa041f6941ddf302690d61dc476385c2fa655142353cb4e4b59f6e5b6584db76fe8b1370263246c010c93d011014113ebdf987d093f9d37c2be" +
        "48352d69a1683f8f6e6c2167983c761e3ab169fde5daaa12123fa1beab621e4da5935e9c198f82f35eae583a99386d8110ea6bd1abb0f568759f62694419ea5f" +
        "69847c43462abef858b4cb5edc84e7b9226cd7bd7e183aa974a712c079dde85b9dc063b8a5c08e8f859c0ee5dcd824c7807f20153361a7f63cfd2a433a1be7f5";

    [Fact]
    public void Fingerprints_of_published_keys()
    {
        Assert.Equal(unchecked((long)0xd09d1d85de64fd85), RsaServerKey.ComputeFingerprint(TelegramProduction));
        Assert.Equal(unchecked((long)0xb25898df208d2603), RsaServerKey.ComputeFingerprint(TelegramTest));
        Assert.Equal(0x0bc35f3509f7b7a5, RsaServerKey.ComputeFingerprint(MtcuteKeysTest));
        // From the raw modulus/exponent as mtcute's test lists them, with and without a .NET-style leading zero.
        byte[] e = [0x01, 0x00, 0x01];
        Assert.Equal(0x0bc35f3509f7b7a5, RsaServerKey.ComputeFingerprint(Convert.FromHexString(MtcuteModulus), e));
        Assert.Equal(0x0bc35f3509f7b7a5, RsaServerKey.ComputeFingerprint([0, .. Convert.FromHexString(MtcuteModulus)], e));
        Assert.Equal(unchecked((long)0xb25898df208d2603), RsaServerKey.ComputeFingerprint(Convert.FromHexString(TelegramTestModulus), e));
        // The independent test-side routine agrees.
        Assert.Equal(0x0bc35f3509f7b7a5, TestClient.ComputeFingerprint(Convert.FromHexString(MtcuteModulus), e));
    }

    [Fact]
    public void Generated_key_exports_pkcs1_public_pem_with_the_same_fingerprint()
    {
        var key = TestKeys.Key;
        var pem = key.ExportPublicKeyPem();
        Assert.StartsWith("-----BEGIN RSA PUBLIC KEY-----", pem);
        Assert.Equal(key.Fingerprint, RsaServerKey.ComputeFingerprint(pem));
        Assert.Equal(256, key.Modulus.Length);
        Assert.Equal([1, 0, 1], key.Exponent);
        Assert.DoesNotContain("PRIVATE", key.ToString());
    }

    [Fact]
    public void Loads_pkcs1_and_pkcs8_private_pem()
    {
        using var rsa = RSA.Create(2048);
        var pkcs1 = rsa.ExportRSAPrivateKeyPem();
        var pkcs8 = rsa.ExportPkcs8PrivateKeyPem();
        Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", pkcs1);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pkcs8);
        using var a = RsaServerKey.FromPem(pkcs1);
        using var b = RsaServerKey.FromPem(pkcs8);
        Assert.Equal(a.Fingerprint, b.Fingerprint);
        Assert.Equal(TestClient.ComputeFingerprint(rsa.ExportParameters(false).Modulus!, rsa.ExportParameters(false).Exponent!), a.Fingerprint);
        // Round trip through our own private export.
        using var c = RsaServerKey.FromPem(b.ExportPrivateKeyPem());
        Assert.Equal(a.Fingerprint, c.Fingerprint);
    }

    [Fact]
    public void Refuses_public_keys_wrong_sizes_and_garbage()
    {
        Assert.Throws<ArgumentException>(() => RsaServerKey.FromPem(TelegramProduction));
        using var small = RSA.Create(1024);
        var ex = Assert.Throws<ArgumentException>(() => RsaServerKey.FromPem(small.ExportRSAPrivateKeyPem()));
        Assert.Contains("2048", ex.Message);
        Assert.Throws<ArgumentException>(() => RsaServerKey.FromPem("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"));
        Assert.Throws<ArgumentException>(() => RsaServerKey.FromPem("not a pem"));
    }

    [Fact]
    public void Key_set_finds_keys_by_fingerprint_and_refuses_duplicates()
    {
        var set = TestKeys.Set;
        Assert.Equal(2, set.Fingerprints.Length);
        Assert.True(set.TryGet(TestKeys.Key.Fingerprint, out var k));
        Assert.Same(TestKeys.Key, k);
        Assert.False(set.TryGet(12345, out _));
        Assert.Throws<ArgumentException>(() => new RsaKeySet(TestKeys.Key, TestKeys.Key));
        Assert.Throws<ArgumentException>(() => new RsaKeySet());
    }

    [Fact]
    public void Raw_decryption_equals_BigInteger_c_pow_d_mod_n()
    {
        using var rsa = RSA.Create(2048);
        var prm = rsa.ExportParameters(true);
        using var key = RsaServerKey.FromPem(rsa.ExportPkcs8PrivateKeyPem());
        var n = TestClient.FromBe(prm.Modulus!);
        var d = TestClient.FromBe(prm.D!);
        var e = TestClient.FromBe(prm.Exponent!);
        var rng = new Random(7);
        var m = new byte[256];
        for (int i = 0; i < 12; i++)
        {
            var cBytes = new byte[256];
            rng.NextBytes(cBytes);
            var c = TestClient.FromBe(cBytes) % n;
            if (i == 0) c = BigInteger.Zero;
            if (i == 1) c = BigInteger.One;
            if (i == 2) c = n - 1;
            var cb = TestClient.ToBe(c, 256);
            Assert.True(key.TryDecryptRaw(cb, m));
            Assert.Equal(TestClient.ToBe(BigInteger.ModPow(c, d, n), 256), m);
            Assert.Equal(c, BigInteger.ModPow(TestClient.FromBe(m), e, n));
            // Short (minimal) ciphertexts are the same number.
            Assert.True(key.TryDecryptRaw(TestClient.ToMinBe(c), m));
            Assert.Equal(TestClient.ToBe(BigInteger.ModPow(c, d, n), 256), m);
        }
        Assert.False(key.TryDecryptRaw(prm.Modulus, m));                      // c == n
        Assert.False(key.TryDecryptRaw(Enumerable.Repeat((byte)0xff, 256).ToArray(), m)); // c > n
        Assert.False(key.TryDecryptRaw(new byte[257].Select(_ => (byte)1).ToArray(), m)); // longer than n
        Assert.True(key.TryDecryptRaw([0, .. TestClient.ToBe(n - 1, 256)], m));          // leading zero is fine
    }

    [Fact]
    public void Raw_decryption_stays_correct_across_blinding_renewals_and_threads()
    {
        var key = TestKeys.Key;
        var n = TestClient.FromBe(key.Modulus);
        var e = TestClient.FromBe(key.Exponent);
        // 4 threads x 40 operations: the blinding pair is squared 31 times, then renewed, several times over.
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            var rng = new Random(t);
            var m = new byte[256];
            for (int i = 0; i < 40; i++)
            {
                var cBytes = new byte[256];
                rng.NextBytes(cBytes);
                var c = TestClient.FromBe(cBytes) % n;
                Assert.True(key.TryDecryptRaw(TestClient.ToBe(c, 256), m));
                Assert.Equal(c, BigInteger.ModPow(TestClient.FromBe(m), e, n));
            }
        });
    }

    [Fact]
    public void Libcrypto_modexp_equals_BigInteger_ModPow_on_random_inputs()
    {
        Assert.True(NativeCrypto.IsAvailable, NativeCrypto.UnavailableReason);
        Assert.NotNull(NativeCrypto.LibraryName);
        var rng = new Random(42);
        for (int round = 0; round < 20; round++)
        {
            int size = round < 10 ? 256 : rng.Next(1, 300);
            var modBytes = new byte[size];
            rng.NextBytes(modBytes);
            modBytes[0] |= 0x80;
            modBytes[^1] |= 1;
            if (size == 1 && modBytes[0] == 1) modBytes[0] = 3;
            using var modulus = new MontgomeryModulus(modBytes);
            var mod = TestClient.FromBe(modBytes);
            var b = new byte[rng.Next(0, 300)];
            var ex = new byte[rng.Next(0, 300)];
            rng.NextBytes(b);
            rng.NextBytes(ex);
            var expected = TestClient.ToBe(BigInteger.ModPow(TestClient.FromBe(b), TestClient.FromBe(ex), mod), size);
            var r = new byte[size];
            modulus.ModPow(b, ex, r, secretExponent: true);
            Assert.Equal(expected, r);
            Array.Clear(r);
            modulus.ModPow(b, ex, r, secretExponent: false);
            Assert.Equal(expected, r);
        }

        // The DH prime: g^a for random a.
        var prime = TestClient.KnownPrime;
        for (int i = 0; i < 5; i++)
        {
            var a = new byte[256];
            rng.NextBytes(a);
            var r = new byte[256];
            DhGroup.Telegram.ModPow([3], a, r, secretExponent: true);
            Assert.Equal(TestClient.ToBe(BigInteger.ModPow(3, TestClient.FromBe(a), prime), 256), r);
        }
    }

    [Fact]
    public void Montgomery_modulus_refuses_even_and_trivial_moduli()
    {
        Assert.Throws<ArgumentException>(() => new MontgomeryModulus([0x10]));
        Assert.Throws<ArgumentException>(() => new MontgomeryModulus([0, 1]));
        Assert.Throws<ArgumentException>(() => new MontgomeryModulus([]));
        using var m = new MontgomeryModulus([0, 0, 7]);
        Assert.Equal(1, m.ByteLength);
        var r = new byte[1];
        m.ModPow([3], [2], r, secretExponent: true);
        Assert.Equal(2, r[0]); // 9 mod 7
    }

    [Fact]
    public void Dh_safe_range_bounds_are_exclusive()
    {
        var g = DhGroup.Telegram;
        var p = TestClient.KnownPrime;
        var bound = BigInteger.One << 1984;
        Assert.False(g.IsInSafeRange(TestClient.ToBe(bound, 256)));
        Assert.True(g.IsInSafeRange(TestClient.ToBe(bound + 1, 256)));
        Assert.True(g.IsInSafeRange(TestClient.ToBe(p - bound - 1, 256)));
        Assert.False(g.IsInSafeRange(TestClient.ToBe(p - bound, 256)));
        Assert.False(g.IsInSafeRange(TestClient.ToBe(p - 1, 256)));
        Assert.False(g.IsInSafeRange(TestClient.ToBe(BigInteger.One, 256)));
        Assert.False(g.IsInSafeRange(new byte[255]));
    }

    [Fact]
    public void Dh_key_pair_is_in_range_and_matches_BigInteger()
    {
        var a = new byte[256];
        var ga = new byte[256];
        DhGroup.Telegram.GenerateKeyPair(RandomNumberGenerator.Fill, a, ga);
        Assert.True(DhGroup.Telegram.IsInSafeRange(ga));
        Assert.Equal(TestClient.ToBe(BigInteger.ModPow(3, TestClient.FromBe(a), TestClient.KnownPrime), 256), ga);
    }
}
