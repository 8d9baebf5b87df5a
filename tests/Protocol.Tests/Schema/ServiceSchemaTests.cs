using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Tests.Schema;

public class ServiceSchemaTests
{
    public static TheoryData<int> SampleIndexes()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Samples.All().Count; i++) data.Add(i);
        return data;
    }

    private static TlObject Read(byte[] bytes)
    {
        Assert.True(ServiceSchema.TryRead(bytes, out var obj, out var error), error.ToString());
        return obj;
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Every_constructor_round_trips(int index)
    {
        var original = Samples.All()[index];
        var bytes = original.ToBytes();
        Assert.Equal(0, bytes.Length % 4);
        var back = Read(bytes);
        Assert.Equal(original, back);
        Assert.Equal(original.GetType(), back.GetType());
        Assert.Equal(bytes, back.ToBytes());
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Every_constructor_truncated_at_every_offset_is_a_typed_error(int index)
    {
        var bytes = Samples.All()[index].ToBytes();
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            var r = new TlReader(bytes.AsSpan(0, cut));
            bool ok = ServiceSchema.TryRead(ref r, out var obj);
            // rpc_result takes the rest of the buffer, so a cut inside its result still parses (as a shorter
            // result of at least 4 bytes); everything else must fail.
            if (ok)
            {
                Assert.IsType<RpcResult>(obj);
                Assert.True(cut >= 16);
                continue;
            }
            Assert.Null(obj);
            Assert.True(r.Error is TlError.Truncated or TlError.BadLength, $"cut {cut}: {r.Error}");
        }
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Trailing_bytes_are_reported(int index)
    {
        var sample = Samples.All()[index];
        if (sample is RpcResult) return; // its result runs to the end by definition
        var bytes = sample.ToBytes().Concat(new byte[4]).ToArray();
        Assert.False(ServiceSchema.TryRead(bytes, out _, out var error));
        Assert.Equal(TlError.TrailingData, error);
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        var random = new Random(7);
        var ids = Samples.Ids().ToArray();
        for (int i = 0; i < 20000; i++)
        {
            var bytes = new byte[random.Next(0, 80)];
            random.NextBytes(bytes);
            if (bytes.Length >= 4 && random.Next(2) == 0) BitConverter.TryWriteBytes(bytes, ids[random.Next(ids.Length)]);
            var r = new TlReader(bytes);
            bool ok = ServiceSchema.TryRead(ref r, out var obj);
            Assert.Equal(ok, obj is not null);
            Assert.Equal(ok, r.Ok);
        }
    }

    [Fact]
    public void Unknown_constructor_is_a_typed_error()
    {
        byte[] bytes = [0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0];
        Assert.False(ServiceSchema.TryRead(bytes, out _, out var error));
        Assert.Equal(TlError.UnknownConstructor, error);
    }

    [Fact]
    public void Typed_read_rejects_another_constructor()
    {
        var r = new TlReader(new Pong(1, 2).ToBytes());
        Assert.False(ServiceSchema.TryRead<Ping>(ref r, out var ping));
        Assert.Null(ping);
        Assert.Equal(TlError.UnexpectedConstructor, r.Error);
        r = new TlReader(new Ping(5).ToBytes());
        Assert.True(ServiceSchema.TryRead<Ping>(ref r, out ping));
        Assert.Equal(5, ping.PingId);
    }

    // test-vectors.md §B: the decrypted body of a real Telegram server frame (grammers decrypt_server_data_v2).
    private const string RealServerContainer =
        "DCF8F173" + "02000000" +
        "01A8C1C2918B305E" + "01000000" + "1C000000" +
        "0809C29E" + "C4FD33AD918B305E" + "18A88EA607EE5816" + "FC826A02248B28FD" +
        "01CCC1C2918B305E" + "02000000" + "14000000" +
        "C5737734" + "C4FD33AD918B305E" + "6408300000000000";

    [Fact]
    public void Real_server_container_parses_to_new_session_created_and_pong()
    {
        var bytes = Convert.FromHexString(RealServerContainer);
        var container = Assert.IsType<MsgContainer>(Read(bytes));
        Assert.Equal(2, container.Messages.Length);

        var first = container.Messages[0];
        Assert.Equal(0x5e308b91c2c1a801, first.MsgId);
        Assert.Equal(1, first.SeqNo);
        Assert.Equal(28, first.Body.Length);
        var nsc = Assert.IsType<NewSessionCreated>(Read([.. first.Body]));
        Assert.Equal(0x5e308b91ad33fdc4, nsc.FirstMsgId);
        Assert.Equal(0x1658EE07A68EA818, nsc.UniqueId);
        Assert.Equal(unchecked((long)0xFD288B24026A82FC), nsc.ServerSalt);

        var second = container.Messages[1];
        Assert.Equal(0x5e308b91c2c1cc01, second.MsgId);
        Assert.Equal(2, second.SeqNo);
        var pong = Assert.IsType<Pong>(Read([.. second.Body]));
        Assert.Equal(new Pong(0x5e308b91ad33fdc4, 0x300864), pong);

        // Content-relatedness as the real server used it.
        Assert.True(ContentRelation.IsContentRelatedFromServer(nsc.ConstructorId));
        Assert.False(ContentRelation.IsContentRelatedFromServer(pong.ConstructorId));
        Assert.False(ContentRelation.IsContentRelatedFromServer(container.ConstructorId));
    }

    [Fact]
    public void Real_server_container_is_written_byte_for_byte()
    {
        var container = new MsgContainer(
        [
            new ContainerMessage(0x5e308b91c2c1a801, 1,
                [.. new NewSessionCreated(0x5e308b91ad33fdc4, 0x1658EE07A68EA818, unchecked((long)0xFD288B24026A82FC)).ToBytes()]),
            new ContainerMessage(0x5e308b91c2c1cc01, 2, [.. new Pong(0x5e308b91ad33fdc4, 0x300864).ToBytes()]),
        ]);
        Assert.Equal(RealServerContainer, Convert.ToHexString(container.ToBytes()));

        // The streaming writer produces the same bytes without building records.
        using var w = new TlWriter();
        MsgContainer.WriteHeader(w, 2);
        int token = MsgContainer.BeginItem(w, 0x5e308b91c2c1a801, 1);
        new NewSessionCreated(0x5e308b91ad33fdc4, 0x1658EE07A68EA818, unchecked((long)0xFD288B24026A82FC)).WriteTo(w);
        MsgContainer.EndItem(w, token);
        MsgContainer.WriteItem(w, 0x5e308b91c2c1cc01, 2, new Pong(0x5e308b91ad33fdc4, 0x300864).ToBytes());
        Assert.Equal(RealServerContainer, Convert.ToHexString(w.WrittenSpan));
    }

    [Fact]
    public void Ping_and_pong_bodies_match_the_self_generated_frames()
    {
        // test-vectors.md §G plaintexts, bytes 32.. (the message bodies).
        Assert.Equal("EC77BE7A2827262524232221", Convert.ToHexString(new Ping(0x2122232425262728).ToBytes()));
        Assert.Equal("C573773404000000FCC0AB652827262524232221",
            Convert.ToHexString(new Pong(0x65ABC0FC00000004, 0x2122232425262728).ToBytes()));
    }

    [Fact]
    public void Future_salts_are_a_bare_vector_of_bare_items()
    {
        var salts = new FutureSalts(0x0102030405060708, 0x11223344, [new FutureSalt(1, 2, 3)]);
        Assert.Equal("950850AE" + "0807060504030201" + "44332211" + "01000000" + "01000000" + "02000000" + "0300000000000000",
            Convert.ToHexString(salts.ToBytes()));
    }

    [Fact]
    public void Future_salts_with_a_huge_count_fail_without_allocating()
    {
        using var w = new TlWriter();
        w.WriteUInt32(ConstructorIds.FutureSalts);
        w.WriteInt64(1);
        w.WriteInt32(2);
        w.WriteInt32(int.MaxValue);
        new FutureSalt(1, 2, 3).WriteBare(w);
        Assert.False(ServiceSchema.TryRead(w.ToArray(), out _, out var error));
        Assert.Equal(TlError.BadLength, error);
    }

    [Fact]
    public void Msg_id_lists_above_8192_are_too_many_items()
    {
        var ids = Enumerable.Range(1, ServiceSchema.MaxMsgIds + 1).Select(i => (long)i).ToArray();
        foreach (var obj in new TlObject[] { new MsgsAck([.. ids]), new MsgResendReq([.. ids]), new MsgsStateReq([.. ids]) })
        {
            Assert.False(ServiceSchema.TryRead(obj.ToBytes(), out _, out var error));
            Assert.Equal(TlError.TooManyItems, error);
        }
        Assert.True(ServiceSchema.TryRead(new MsgsAck([.. ids[..ServiceSchema.MaxMsgIds]]).ToBytes(), out _, out _));
    }

    [Fact]
    public void Msgs_ack_claiming_a_huge_count_fails_before_allocating()
    {
        using var w = new TlWriter();
        w.WriteUInt32(ConstructorIds.MsgsAck);
        w.WriteVectorHeader(1000);
        w.WriteInt64(1);
        Assert.False(ServiceSchema.TryRead(w.ToArray(), out _, out var error));
        Assert.Equal(TlError.BadLength, error);
    }

    [Fact]
    public void Rpc_result_writer_variants_agree()
    {
        var result = new RpcError(400, "BAD_REQUEST").ToBytes();
        using var w = new TlWriter();
        RpcResult.Write(w, 42, result);
        Assert.Equal(new RpcResult(42, [.. result]).ToBytes(), w.ToArray());
        w.Reset();
        RpcResult.WriteHeader(w, 42);
        new RpcError(400, "BAD_REQUEST").WriteTo(w);
        Assert.Equal(new RpcResult(42, [.. result]).ToBytes(), w.ToArray());
        var back = Assert.IsType<RpcResult>(Read(w.ToArray()));
        Assert.Equal(new RpcError(400, "BAD_REQUEST"), Read([.. back.Result]));
    }

    [Fact]
    public void Property_random_values_round_trip()
    {
        var random = new Random(1234);
        long L() => random.NextInt64(long.MinValue, long.MaxValue);
        int I() => random.Next(int.MinValue, int.MaxValue);
        byte[] B(int max)
        {
            var b = new byte[random.Next(0, max)];
            random.NextBytes(b);
            return b;
        }
        for (int i = 0; i < 500; i++)
        {
            TlObject[] objects =
            [
                new Pong(L(), L()),
                new BadServerSalt(L(), I(), I(), L()),
                new MsgsStateInfo(L(), [.. B(600)]),
                new MsgsAllInfo([.. Enumerable.Range(0, random.Next(0, 50)).Select(_ => L())], [.. B(60)]),
                new RpcError(I(), new string((char)random.Next('a', 'z' + 1), random.Next(0, 300))),
                new FutureSalts(L(), I(), [.. Enumerable.Range(0, random.Next(0, 65)).Select(_ => new FutureSalt(I(), I(), L()))]),
                new MsgContainer([.. Enumerable.Range(0, random.Next(0, 10)).Select(_ => new ContainerMessage(L(), I(), [.. new Ping(L()).ToBytes()]))]),
            ];
            foreach (var obj in objects)
            {
                var back = Read(obj.ToBytes());
                Assert.Equal(obj, back);
            }
        }
    }
}
