using System.IO.Hashing;
using System.Text;
using MtActors.Protocol.Schema;

namespace MtActors.Protocol.Tests.Schema;

public class ConstructorIdTests
{
    private static uint Crc(string line) => Crc32.HashToUInt32(Encoding.ASCII.GetBytes(line));

    // The id of a constructor is the CRC32 of its combinator line in normalized form
    // (no id, no trailing ';', '<' and '>' of type arguments as spaces, 'bytes' as 'string').
    [Theory]
    [InlineData("ping ping_id:long = Pong", ConstructorIds.Ping)]
    [InlineData("pong msg_id:long ping_id:long = Pong", ConstructorIds.Pong)]
    [InlineData("ping_delay_disconnect ping_id:long disconnect_delay:int = Pong", ConstructorIds.PingDelayDisconnect)]
    [InlineData("rpc_result req_msg_id:long result:Object = RpcResult", ConstructorIds.RpcResult)]
    [InlineData("rpc_error error_code:int error_message:string = RpcError", ConstructorIds.RpcError)]
    [InlineData("rpc_drop_answer req_msg_id:long = RpcDropAnswer", ConstructorIds.RpcDropAnswer)]
    [InlineData("rpc_answer_unknown = RpcDropAnswer", ConstructorIds.RpcAnswerUnknown)]
    [InlineData("rpc_answer_dropped_running = RpcDropAnswer", ConstructorIds.RpcAnswerDroppedRunning)]
    [InlineData("rpc_answer_dropped msg_id:long seq_no:int bytes:int = RpcDropAnswer", ConstructorIds.RpcAnswerDropped)]
    [InlineData("get_future_salts num:int = FutureSalts", ConstructorIds.GetFutureSalts)]
    [InlineData("future_salt valid_since:int valid_until:int salt:long = FutureSalt", ConstructorIds.FutureSalt)]
    [InlineData("future_salts req_msg_id:long now:int salts:vector future_salt = FutureSalts", ConstructorIds.FutureSalts)]
    [InlineData("destroy_session session_id:long = DestroySessionRes", ConstructorIds.DestroySession)]
    [InlineData("destroy_session_ok session_id:long = DestroySessionRes", ConstructorIds.DestroySessionOk)]
    [InlineData("destroy_session_none session_id:long = DestroySessionRes", ConstructorIds.DestroySessionNone)]
    [InlineData("new_session_created first_msg_id:long unique_id:long server_salt:long = NewSession", ConstructorIds.NewSessionCreated)]
    [InlineData("destroy_auth_key = DestroyAuthKeyRes", ConstructorIds.DestroyAuthKey)]
    [InlineData("destroy_auth_key_ok = DestroyAuthKeyRes", ConstructorIds.DestroyAuthKeyOk)]
    [InlineData("destroy_auth_key_none = DestroyAuthKeyRes", ConstructorIds.DestroyAuthKeyNone)]
    [InlineData("destroy_auth_key_fail = DestroyAuthKeyRes", ConstructorIds.DestroyAuthKeyFail)]
    [InlineData("msg_container messages:vector message = MessageContainer", ConstructorIds.MsgContainer)]
    [InlineData("message msg_id:long seqno:int bytes:int body:Object = Message", ConstructorIds.Message)]
    [InlineData("msg_copy orig_message:Message = MessageCopy", ConstructorIds.MsgCopy)]
    [InlineData("gzip_packed packed_data:string = Object", ConstructorIds.GzipPacked)]
    [InlineData("msgs_ack msg_ids:Vector long = MsgsAck", ConstructorIds.MsgsAck)]
    [InlineData("bad_msg_notification bad_msg_id:long bad_msg_seqno:int error_code:int = BadMsgNotification", ConstructorIds.BadMsgNotification)]
    [InlineData("bad_server_salt bad_msg_id:long bad_msg_seqno:int error_code:int new_server_salt:long = BadMsgNotification", ConstructorIds.BadServerSalt)]
    [InlineData("msg_resend_req msg_ids:Vector long = MsgResendReq", ConstructorIds.MsgResendReq)]
    [InlineData("msgs_state_req msg_ids:Vector long = MsgsStateReq", ConstructorIds.MsgsStateReq)]
    [InlineData("msgs_state_info req_msg_id:long info:string = MsgsStateInfo", ConstructorIds.MsgsStateInfo)]
    [InlineData("msgs_all_info msg_ids:Vector long info:string = MsgsAllInfo", ConstructorIds.MsgsAllInfo)]
    [InlineData("msg_detailed_info msg_id:long answer_msg_id:long bytes:int status:int = MsgDetailedInfo", ConstructorIds.MsgDetailedInfo)]
    [InlineData("msg_new_detailed_info answer_msg_id:long bytes:int status:int = MsgDetailedInfo", ConstructorIds.MsgNewDetailedInfo)]
    [InlineData("http_wait max_delay:int wait_after:int max_wait:int = HttpWait", ConstructorIds.HttpWait)]
    [InlineData("messageRange min_id:int max_id:int = MessageRange", ConstructorIds.MessageRange)]
    [InlineData("inputClientProxy address:string port:int = InputClientProxy", ConstructorIds.InputClientProxy)]
    [InlineData("jsonNull = JSONValue", ConstructorIds.JsonNull)]
    [InlineData("jsonBool value:Bool = JSONValue", ConstructorIds.JsonBool)]
    [InlineData("jsonNumber value:double = JSONValue", ConstructorIds.JsonNumber)]
    [InlineData("jsonString value:string = JSONValue", ConstructorIds.JsonString)]
    [InlineData("jsonArray value:Vector JSONValue = JSONValue", ConstructorIds.JsonArray)]
    [InlineData("jsonObject value:Vector JSONObjectValue = JSONValue", ConstructorIds.JsonObject)]
    [InlineData("jsonObjectValue key:string value:JSONValue = JSONObjectValue", ConstructorIds.JsonObjectValue)]
    [InlineData("boolTrue = Bool", ConstructorIds.BoolTrue)]
    [InlineData("boolFalse = Bool", ConstructorIds.BoolFalse)]
    public void Id_is_the_crc32_of_the_combinator_line(string line, uint id) => Assert.Equal(id, Crc(line));

    [Fact]
    public void Every_sample_uses_a_distinct_id_and_writes_it_first()
    {
        foreach (var obj in Samples.All())
        {
            var bytes = obj.ToBytes();
            Assert.Equal(obj.ConstructorId, BitConverter.ToUInt32(bytes, 0));
        }
        Assert.Equal(32, Samples.Ids().Count);
        Assert.All(Samples.Ids(), id => Assert.True(ServiceSchema.IsServiceConstructor(id)));
    }
}
