using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Tests.Handshake;

/// <summary>test-vectors.md §A (core.telegram.org samples-auth_key, crawler commit 00171f4e) and §F.</summary>
public sealed class HandshakeVectorTests
{
    private static byte[] H(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    private static readonly byte[] Nonce = H("15A084B3B9CA2A17F03925F44B78FE68");
    private static readonly byte[] ServerNonce = H("D6701FCD212CEB87C966E5318F5564A8");
    private static readonly byte[] NewNonce = H("845FAD32D10A4C7967DA49A89FBE508AD24AA3150992B499B3B2C72CDC0F364C");
    private static readonly byte[] TmpAesKey = H("D32E4A7F18252AE2B0406B84633E1117833ED75BDA40011D1E1700E3E08A8AE7");
    private static readonly byte[] TmpAesIv = H("4FFC40D969D49934ED3740FF66D9179947A5E1D85C4C7F15555920C1845FAD32");
    private static readonly byte[] GA = H(
        "9828B2E4CAEC188BB94216F5E2DB632A17630A21FD00C67465E741D26137C8E2B757F349D8DD1B62B601642ACB9E3B390ABF153D3A11615A128ED1D79379D763C14D2DF5CEF99C96945C51290C1FD82C4B482078863B2BC7022C7886C21C0F1D24814C768321C05934303E50AE22CBC83F2A3994BBC3C72E77BF10CDB695CBD86655D1BC0A083551E59D0FBFCFA13825A182105A78DA35AF5A15C064275B6E6729049C84209B898675C9110ADCD1CBB2AAB333C05D3E9F70D05FEE7C54EFCE927E1B40A719D04D15C7E950EB885E60AAAE990231719DBDDD84C65B2F3A606FE1F78DEA7C8FAD25C1CD7876EB6F5A46270B82D549E31EDD3C2DC2F82970A4999C");
    private static readonly byte[] B = H(
        "A521C97B9D210812C56055C62FE8C3CE7FC97A75E51D4428F78F7D5F7325FCE03FF70D99039502FB75059DC40E36CF4F4D7A073937CC6DBC86AB864E7B3F26EFE833F766856033931BC41F031507DD571FCFEBB28F1B3DF1577A90C25B95C56894AAB64C681961AC68AFA9AADF03752D0E26EADD645A02D7895B64846EB83B3DDD458D856870CD8C0765B985C1ED50D5D802DDE67B159C899898A9B738D17802F3D50B83A868738D8502BBE33B8D7FBC3348E3E444352816FD84D300A2A8E2117CAC0EAEC654235183187D85548791BF25ABFD1AC97EAB7FA685F67A57E7BBE47B96A99B8F34B8EB523C18AEE074EABACB6FA9A28A41F4F961F41D86B19F4EC1");
    private static readonly byte[] EncryptedAnswer = H(
        "FEF627AC3A88027BC6583F95D82E610066A87B839614EE343CD8D37F2B2C81FC964561BA164F44E4B3C39A6CC74C6E2F2687C2E5872658E4301734B3814D420C684D94C0B93C4B335DBB346266CDAD20B3EEC91AE49B59E130EAB877FD03C07BA786DA8EFF7BDDCB773E0C4C1C7C66FE5C5A39D32A76400D71FBD2A09D5BFDF3B3976F17C1DA7FD77349CBD97EBC5217181541F43D8DEDB3027DC3989623DCF849FF391832F409903E7620EBBF7675CEFA13CEC90570BB0EE196C5BB67DB169DB902C1192F67D9A74B1B9782FF02FD4DB78C76117D6639A6ED87F5DEB37ED49296F2C94EA835D0988A270749C3E6D1D0B0BE88F3985D683E48F2E2AC7648175EE72BEA1B52641C23EC8EEFBD6025516E91CCE20C25CB5159B5C9D9CA19A15DD4A44F422946B758EC4C968BDE0832E2389D5B9F3C3AC520AC58753747717F7276A7DF3FF841A7ABD18524A3150F537471F73A9818097E82D9645A9CE38F858D510FFC79CE11D96173C22DDE2B0AE490B8CC7B10BCC7BB8879027872E724DCC648DDF7AE6F14C3229E7D611463E513D38BE913D0D50E9D439337C0FD8D71C9EF70C602A47173D699308216C7C44C40615BF8E9806A5DFA56F4529AD70E784C1904A9488A019A6C7AB7D822A9A6926A1916891302C1827CE54E9D8829EE079D19730DFEBA218D317EB4F22A2418EF9343DA75131FC6F37A80D5EEB93309711244AE3A1D4CA1906F10B4F06C8F9BF547A6FEA9A8D0CC910B15E7DA9A0ACF0C2E7934F7A7DBA8EFFE4D135DBD207C609BFC3BAC89BA949DDF754879712F6B97C50A54F560D0A75DA8A078A039F21BCA129FCB");
    private static readonly byte[] AnswerWithHashHead = H("ADDDF2FEB5E14F93EE8D3A5181F9D89A39E4439CBA0D89B515A084B3B9CA2A17F03925F44B78FE68D6701FCD212CEB87C966E5318F5564A803000000FE000100");
    private static readonly byte[] AnswerWithHashTail = H("FDC0AB657607B7374780E1C0");
    private static readonly byte[] ClientDhInner = H(
        "54B6436615A084B3B9CA2A17F03925F44B78FE68D6701FCD212CEB87C966E5318F5564A80000000000000000FE000100A0BB357C5A5FBC4EC9D8B2171C030CB68A693A8024CD9E3630BAE4CE000A14A5DBF8A40DFB322678A797ED3D591032D0A1C529BE4E76B7EBD5436E7BF7539A9AB5A5FE9DD62F37CAE704EFE0C10DD608E5D9554F7B2F7198E99CE29A9A86CCE0FBB1491EBA269DEB6AA20C5CB2134E75E5C70A7C0E7D47EE16F87189D135EDAE37EAD992063C11AEA4AC660CF3EBE61B6C21ADAAC2A9317120A6F4D1DA65978FA74BF94CC65A0CA2479D064906E78575049E7654D346CA576C6778F478CDB48FCA2FD9202E6E5F95FEF623A206207AFB41619C419357B49F4F8825B37EF7E74811FBA22BDF45730F423793C5049514363232F3358BC5F60A416BDCE7D7BBFB49");
    private static readonly byte[] ClientPadding = H("C320374A97C7BB863CFF9F97");
    private static readonly byte[] SetClientEncrypted = H(
        "79CA5B557095AD847C53D6308A38B62FC9A6F2356C07F298D21C9B0DB4002D90C4C0FB9C72626F9F146B4E3A81F59ED5CC6A0B4F59BC7411CDCA6BDA8C27B6C3B6DB548F076BB6CCB6791DB116E6368C7328BA21212121446CE754EC118CF380ED0CB0D798418CE54D7F68FCAE7AF146F4F8DF31F98794FF6EE06C35DE10A86518434A9F83CDC05FD5B151A50F63AD87D8529D7AA032498AF9C17C6F02E7EE1E8733F5752186880FA475F2977C7F00E1D8384E20613971F98EFD81A3C6BFB3B8F97969FB39D172527961341BBFDC9D2895306365A52F2CB9087C122E53990800BD596E05AA25A5642996AFB43061178A580F21E3C47080418B4CF0B6B10FC0C78595D486B3A3DD401D1BF37257C2584BFD5D71A708B138A6E22F853E522696AA6D1A8532461ABAEA7935A975E3C978A7A00C792CB3ADF688D0B1480C6C016B04CD1BC36546CD9ACABAA0C84DB571749B");
    private static readonly byte[] AuthKey = H(
        "77379866D71627E6C3635361F9681B03C9EE8A7AAB9552EF513A13315EABC18A118ED649614AE1F01DAB8F71D83341309C5999AD4889E5D9F3E911AAAD00D9DDC24273D7B97DD92151F969242F347C8F9D5DE44E8D7E87A69C2AE1757F5ECD20AAFC586EDD34C89AC8D5B8F7C9EB33A0C7F06A69632BCEB8DE03E336E5AF0332D4B1F52BA73FBE7A3A6FE8C2268C10B9357E5474A7CCEB0E39FE3B4A92900CD09AF3C307D8FA90CB9DA2AD35643FB0335BD0B7E6D30D1038741EB632E6A97B692A1F76F418AF74337D05539B59DF1D4E16B7E0C87240595DDFD26037CDB7E70DB4B6C5CAE532F49BC6974F6F46FD3CBDCD90EBB6795FD9A43421BCDF893D5C46");
    private static readonly byte[] PqInnerDataDc = H(
        "955FF5A9081460E7D3FA727791000000043C2357CF0000000456BFB29F00000015A084B3B9CA2A17F03925F44B78FE68D6701FCD212CEB87C966E5318F5564A8845FAD32D10A4C7967DA49A89FBE508AD24AA3150992B499B3B2C72CDC0F364C02000000");

    private static UInt128 U128(byte[] b) => BinaryPrimitives.ReadUInt128LittleEndian(b);

    [Fact]
    public void Sample_pq_and_its_factors()
    {
        const ulong p = 1008949199, q = 1455403679;
        Assert.True(PqGenerator.IsPrime(p));
        Assert.True(PqGenerator.IsPrime(q));
        Assert.Equal(1468428376148703121UL, p * q);
        Assert.Equal(H("1460E7D3FA727791"), PqGenerator.ToBigEndian(p * q));
        Assert.Equal(H("3C2357CF"), PqGenerator.ToBigEndian(p));
        Assert.Equal(H("56BFB29F"), PqGenerator.ToBigEndian(q));
        Assert.True(PqGenerator.TryReadBigEndian(H("001460E7D3FA727791"), out ulong pq));
        Assert.Equal(p * q, pq);
        Assert.False(PqGenerator.TryReadBigEndian(H("011460E7D3FA727791"), out _));
        Assert.False(PqGenerator.TryReadBigEndian([], out _));
    }

    [Fact]
    public void Section_F_pq()
    {
        const ulong p = 0x494C553B, q = 0x53911073;
        Assert.Equal(1229739323UL, p);
        Assert.Equal(1402015859UL, q);
        Assert.True(PqGenerator.IsPrime(p));
        Assert.True(PqGenerator.IsPrime(q));
        Assert.Equal(0x17ED48941A08F981UL, p * q);
        Assert.Equal(1724114033281923457UL, p * q);
        Assert.False(PqGenerator.IsPrime(p * q));
    }

    [Fact]
    public void Sample_p_q_inner_data_dc_parses_and_writes_back()
    {
        var reader = new TlReader(PqInnerDataDc);
        Assert.True(PqInnerData.TryRead(ref reader, out var inner));
        Assert.True(reader.AtEnd);
        Assert.Equal(PqInnerDataKind.Dc, inner.Kind);
        Assert.Equal(H("1460E7D3FA727791"), inner.Pq);
        Assert.Equal(H("3C2357CF"), inner.P);
        Assert.Equal(H("56BFB29F"), inner.Q);
        Assert.Equal(U128(Nonce), inner.Nonce);
        Assert.Equal(U128(ServerNonce), inner.ServerNonce);
        Assert.Equal(NewNonce, inner.NewNonce);
        Assert.Equal(2, inner.Dc);
        Assert.Null(inner.ExpiresIn);
        Assert.False(inner.IsTemporary);
        using var w = new TlWriter();
        inner.Write(w);
        Assert.Equal(PqInnerDataDc, w.ToArray());
    }

    [Fact]
    public void Sample_tmp_aes_key_and_iv()
    {
        var key = new byte[32];
        var iv = new byte[32];
        HandshakeCrypto.DeriveTmpAes(NewNonce, ServerNonce, key, iv);
        Assert.Equal(TmpAesKey, key);
        Assert.Equal(TmpAesIv, iv);
    }

    [Fact]
    public void Sample_encrypted_answer_decrypts_to_server_DH_inner_data()
    {
        var plain = new byte[EncryptedAnswer.Length];
        Assert.Equal(592, plain.Length);
        AesIge.Decrypt(TmpAesKey, TmpAesIv, EncryptedAnswer, plain);
        Assert.Equal(AnswerWithHashHead, plain[..AnswerWithHashHead.Length]);
        Assert.Equal(AnswerWithHashTail, plain[^AnswerWithHashTail.Length..]);

        var reader = new TlReader(plain.AsSpan(20));
        Assert.True(ServerDhInnerData.TryRead(ref reader, out var inner));
        Assert.Equal(564, reader.Position);
        Assert.Equal(SHA1.HashData(plain.AsSpan(20, 564)), plain[..20]);
        Assert.Equal(U128(Nonce), inner.Nonce);
        Assert.Equal(U128(ServerNonce), inner.ServerNonce);
        Assert.Equal(3, inner.G);
        Assert.Equal(DhGroup.TelegramPrime.ToArray(), inner.DhPrime);
        Assert.Equal(GA, inner.GA);
        Assert.Equal(1705754877, inner.ServerTime);
        Assert.True(DhGroup.Telegram.IsInSafeRange(inner.GA));

        // Writing the parsed answer gives the same bytes, and re-encrypting with the same padding gives the sample.
        using var w = new TlWriter();
        inner.Write(w);
        Assert.Equal(plain.AsSpan(20, 564).ToArray(), w.ToArray());
        var pad = plain[(20 + 564)..];
        var reencrypted = HandshakeCrypto.EncryptAnswer(w.WrittenSpan, TmpAesKey, TmpAesIv, d => pad.CopyTo(d));
        Assert.Equal(EncryptedAnswer, reencrypted);
    }

    [Fact]
    public void Sample_g_b_and_auth_key_via_libcrypto_and_BigInteger()
    {
        var gb = ClientDhInner.AsSpan(48, 256).ToArray();
        var computed = new byte[256];
        DhGroup.Telegram.ModPow([3], B, computed, secretExponent: true);
        Assert.Equal(gb, computed);
        var big = BigInteger.ModPow(3, TestClient.FromBe(B), TestClient.KnownPrime);
        Assert.Equal(gb, TestClient.ToBe(big, 256));
        Assert.True(DhGroup.Telegram.IsInSafeRange(gb));

        var key = new byte[256];
        DhGroup.Telegram.ComputeSharedKey(GA, B, key);
        Assert.Equal(AuthKey, key);
    }

    [Fact]
    public void Sample_set_client_DH_params_encrypted_data()
    {
        // Our side decrypts the sample's 336 bytes to SHA1 || client_DH_inner_data || padding.
        var plain = new byte[SetClientEncrypted.Length];
        AesIge.Decrypt(TmpAesKey, TmpAesIv, SetClientEncrypted, plain);
        Assert.Equal(SHA1.HashData(ClientDhInner), plain[..20]);
        Assert.Equal(ClientDhInner, plain[20..324]);
        Assert.Equal(ClientPadding, plain[324..]);

        var reader = new TlReader(plain.AsSpan(20));
        Assert.True(ClientDhInnerData.TryRead(ref reader, out var inner));
        Assert.Equal(304, reader.Position);
        Assert.Equal(U128(Nonce), inner.Nonce);
        Assert.Equal(U128(ServerNonce), inner.ServerNonce);
        Assert.Equal(0, inner.RetryId);
        Assert.Equal(ClientDhInner.AsSpan(48, 256).ToArray(), inner.GB);
    }

    [Fact]
    public void Sample_key_ids_nonce_hashes_and_salt()
    {
        var ak = new MtActors.Protocol.Crypto.AuthKey(AuthKey);
        long id = ak.Id, aux = ak.AuxHash;
        Assert.Equal(BinaryPrimitives.ReadInt64LittleEndian(H("8AE7A271969A9B1F")), id);
        Assert.Equal(BinaryPrimitives.ReadInt64LittleEndian(H("26D6CEEFF1381295")), aux);
        Assert.Equal(U128(H("677F483BB89FD206B244A2D1AC38CB31")), HandshakeCrypto.NewNonceHash(NewNonce, 1, aux));
        Assert.Equal(U128(H("5F76F126317168F0B0AA0F8A7CDE8D52")), HandshakeCrypto.NewNonceHash(NewNonce, 2, aux));
        Assert.Equal(U128(H("F0D720C06E826B5920C6020C882ACBE6")), HandshakeCrypto.NewNonceHash(NewNonce, 3, aux));
        Assert.Equal(BinaryPrimitives.ReadInt64LittleEndian(H("522FB2FFF026A7FE")), ServerSalts.Initial(NewNonce, ServerNonce));

        // dh_gen_ok body from the page: 34F7CB3B <nonce> <server_nonce> <new_nonce_hash1>
        using var w = new TlWriter();
        new DhGenResult(DhGenKind.Ok, U128(Nonce), U128(ServerNonce), HandshakeCrypto.NewNonceHash(NewNonce, 1, aux)).Write(w);
        Assert.Equal(H("34F7CB3B").Concat(Nonce).Concat(ServerNonce).Concat(H("677F483BB89FD206B244A2D1AC38CB31")), w.ToArray());
    }

    [Fact]
    public void Sample_unencrypted_frames()
    {
        var reqPqFrame = H("0000000000000000 64F70D00FCC0AB65 14000000 F18E7EBE 15A084B3B9CA2A17F03925F44B78FE68");
        Assert.Equal(HandshakeError.None, UnencryptedMessage.TryRead(reqPqFrame, out long msgId, out var body));
        Assert.Equal(0x65abc0fc000df764, msgId);
        var reader = new TlReader(body);
        Assert.True(ReqPq.TryRead(ref reader, out var reqPq));
        Assert.True(reader.AtEnd);
        Assert.True(reqPq.Multi);
        Assert.Equal(U128(Nonce), reqPq.Nonce);
        Assert.Equal(reqPqFrame, UnencryptedMessage.Create(msgId, body));

        var resPqFrame = H("0000000000000000 01C46FBEFCC0AB65 B8000000 63241605".Replace(" ", "") + Convert.ToHexString(Nonce) + Convert.ToHexString(ServerNonce)
            + "081460E7D3FA727791000000 15C4B51C 03000000 A5B7F709355FC30B 216BE86C022BB4C3 85FD64DE851D9DD0".Replace(" ", ""));
        // Doc bug in the sample: its message_length says 0xB8 (184) but the body that follows is 80 bytes
        // (the frame is 100 bytes). Our reader refuses the frame as published ...
        Assert.Equal(HandshakeError.Truncated, UnencryptedMessage.TryRead(resPqFrame, out _, out _));
        // ... and reads it with the true length.
        resPqFrame[16] = 0x50;
        Assert.Equal(HandshakeError.None, UnencryptedMessage.TryRead(resPqFrame, out msgId, out body));
        Assert.Equal(0x65abc0fcbe6fc401, msgId);
        Assert.Equal(80, body.Length);
        reader = new TlReader(body);
        Assert.True(ResPq.TryRead(ref reader, out var resPq));
        Assert.True(reader.AtEnd);
        Assert.Equal(H("1460E7D3FA727791"), resPq.Pq);
        Assert.Equal(3, resPq.Fingerprints.Length);
        Assert.Equal(unchecked((long)0xd09d1d85de64fd85), resPq.Fingerprints[2]);
        Assert.Equal(0x0bc35f3509f7b7a5, resPq.Fingerprints[0]);
        using var w = new TlWriter();
        UnencryptedMessage.Write(w, msgId, Write(resPq.Write));
        Assert.Equal(resPqFrame, w.ToArray());
    }

    private static byte[] Write(Action<TlWriter> write)
    {
        using var w = new TlWriter();
        write(w);
        return w.ToArray();
    }
}
