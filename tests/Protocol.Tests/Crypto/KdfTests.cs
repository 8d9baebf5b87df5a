using System.Buffers.Binary;
using MtActors.Protocol.Crypto;
using static MtActors.Protocol.Tests.Crypto.CryptoTestData;

namespace MtActors.Protocol.Tests.Crypto;

public sealed class KdfTests
{
    [Theory]
    [InlineData(MessageSender.Client, "704ED09C8B41668AE8F99D244738F71DBDDC44469B6BBD4AA8573DD042BD059E", "4D266000A550EDABBF4C7CE40FD0043CC92230184CD317A5CC9C2482FD3B9318")]
    [InlineData(MessageSender.Server, "217725799B245806458174A1FCFBC883906807B15033FDD0EA2B4D69CF9C364E", "669A6538917A4FA56CA32360A431C9160BE4AD887140980DAB91CE7BDC47FFBC")]
    public void Grammers_kdf_vectors(MessageSender sender, string expectedKey, string expectedIv)
    {
        var key = new byte[32];
        var iv = new byte[32];
        MtProtoKdf.DeriveAesKeyIv(Sequence(256), Sequence(16), sender, key, iv);
        Assert.Equal(expectedKey, ToHex(key));
        Assert.Equal(expectedIv, ToHex(iv));
    }

    [Theory]
    [InlineData(MessageSender.Client, "AF3F8E1FFA75F4C981EEC33A3E5BBAA2EA48F9BB93E91597627EB1F67960A0C9", "9874D77F95155B35221BFF94B7DF4594C6996E2A62E44FCB7D93C8C4E41B79EE")]
    [InlineData(MessageSender.Server, "D4B378E1E0525F10FF9D4C42807CCCE5B30A033A8088C0B922B5259421751648", "4D7194F42F0135D2FD83050B403265B4C40EE3E9E9FBA56F0F4D8EA6BCB121F5")]
    public void Mtcute_kdf_vectors(MessageSender sender, string expectedKey, string expectedIv)
    {
        byte[] chunk = Hex("98cb29c6ffa89e79da695a54f572e6cb101e81c688b63a4bf73c3622dec230e0");
        byte[] authKey = Enumerable.Repeat(chunk, 8).SelectMany(c => c).ToArray();
        var key = new byte[32];
        var iv = new byte[32];
        MtProtoKdf.DeriveAesKeyIv(authKey, Hex("25d701f2a29205526757825a99eb2d32"), sender, key, iv);
        Assert.Equal(expectedKey, ToHex(key));
        Assert.Equal(expectedIv, ToHex(iv));
    }

    [Fact]
    public void Grammers_auth_key_id_and_aux_hash()
    {
        var key = new AuthKey(Sequence(256));
        Span<byte> wire = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(wire, key.Id);
        Assert.Equal("32D1586EA457DFC8", ToHex(wire));
        BinaryPrimitives.WriteInt64LittleEndian(wire, key.AuxHash);
        Assert.Equal("4916D6BDB7F78E68", ToHex(wire));
        Assert.Equal(key.Id, AuthKey.ComputeId(Sequence(256)));
    }

    [Fact]
    public void Handshake_sample_auth_key_id_and_aux_hash()
    {
        var key = new AuthKey(Hex(SampleAuthKey));
        Span<byte> wire = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(wire, key.Id);
        Assert.Equal("8AE7A271969A9B1F", ToHex(wire));
        BinaryPrimitives.WriteInt64LittleEndian(wire, key.AuxHash);
        Assert.Equal("26D6CEEFF1381295", ToHex(wire));
        Assert.Equal(Hex(SampleAuthKey), key.Key.ToArray());
    }

    [Fact]
    public void Auth_key_copies_its_input_and_checks_the_length()
    {
        byte[] bytes = Sequence(256);
        var key = new AuthKey(bytes);
        bytes[0] ^= 0xff;
        Assert.Equal(0, key.Key[0]);
        Assert.Throws<ArgumentException>(() => new AuthKey(new byte[255]));
        Assert.Throws<ArgumentException>(() => AuthKey.ComputeId(new byte[257]));
        Assert.DoesNotContain("00010203", key.ToString());
    }

    [Fact]
    public void Msg_key_is_the_middle_of_msg_key_large_over_the_x_offset_key_slice()
    {
        byte[] authKey = Sequence(256);
        byte[] plaintext = Sequence(64, 9);
        var large = new byte[32];
        MtProtoKdf.ComputeMsgKeyLarge(authKey, MessageSender.Server, plaintext, large);
        byte[] expected = System.Security.Cryptography.SHA256.HashData([.. authKey.AsSpan(96, 32), .. plaintext]);
        Assert.Equal(expected, large);
        Assert.Equal(expected.AsSpan(8, 16).ToArray(), MtProtoKdf.MsgKeyOf(large).ToArray());
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(expected) | 0x80000000u, MtProtoKdf.QuickAckToken(large));
    }

    [Fact]
    public void Rejects_bad_arguments()
    {
        var out32 = new byte[32];
        Assert.Throws<ArgumentException>(() => MtProtoKdf.DeriveAesKeyIv(new byte[255], new byte[16], MessageSender.Client, out32, out32));
        Assert.Throws<ArgumentException>(() => MtProtoKdf.DeriveAesKeyIv(new byte[256], new byte[15], MessageSender.Client, out32, out32));
        Assert.Throws<ArgumentOutOfRangeException>(() => MtProtoKdf.DeriveAesKeyIv(new byte[256], new byte[16], (MessageSender)4, out32, out32));
    }
}

public sealed class TmpKdfTests
{
    [Fact]
    public void Grammers_tmp_aes_key_and_iv_from_nonces()
    {
        // test-vectors.md §B: server_nonce = 00..0F, new_nonce = 00..1F.
        var key = new byte[32];
        var iv = new byte[32];
        MtActors.Protocol.Handshake.HandshakeCrypto.DeriveTmpAes(Sequence(32), Sequence(16), key, iv);
        Assert.Equal("0758F1533B615D24F6E8A94A6FCBEE0A55EAAB2217D7295CA9213D1A2D7D16A6", ToHex(key));
        Assert.Equal("5A84108E9805656CE864070E166E6218F6783E8511471A5AB7802CF200010203", ToHex(iv));
    }
}
