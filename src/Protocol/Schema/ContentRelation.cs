namespace MtActors.Protocol.Schema;

/// <summary>The seq_no parity a message must have (odd = content-related).</summary>
public enum SeqNoParity
{
    /// <summary>Not content-related: seq_no must be even (else bad_msg 34).</summary>
    Even,
    /// <summary>Content-related: seq_no must be odd (else bad_msg 35).</summary>
    Odd,
    /// <summary>The sender's choice: either parity is accepted.</summary>
    Either,
}

/// <summary>
/// Which messages are content-related (spec.md §2.3 and the CR column of §3). Always judge the
/// unwrapped object (<see cref="ApiWrappers.TryUnwrap"/>): a gzip'd or invokeWithLayer'd query is
/// classified by what is inside.
/// </summary>
public static class ContentRelation
{
    /// <summary>
    /// The parity the server requires of a client message whose (unwrapped) body has this constructor id:
    /// msgs_ack, msg_container, msg_copy and gzip_packed must be even; every other MTProto service object
    /// is the client's choice (real clients differ: tdlib sends ping, get_future_salts, destroy_auth_key...
    /// even, Telethon odd, so no 34/35 for them); anything outside the service schema is an API query and
    /// must be odd.
    /// </summary>
    public static SeqNoParity ExpectedFromClient(uint constructorId) => constructorId switch
    {
        ConstructorIds.MsgsAck or ConstructorIds.MsgContainer or ConstructorIds.MsgCopy or ConstructorIds.GzipPacked
            => SeqNoParity.Even,
        _ when ServiceSchema.IsServiceConstructor(constructorId) => SeqNoParity.Either,
        _ => SeqNoParity.Odd,
    };

    /// <summary>
    /// Whether the server sends a message whose body has this constructor id as content-related (odd seq_no,
    /// the client must acknowledge it, the server keeps it until acknowledged): rpc_result,
    /// new_session_created, and every object outside the service schema (updates). All other service
    /// objects are even: containers, msgs_ack, pong, bad_msg_notification, bad_server_salt, future_salts,
    /// msgs_state_info, msgs_all_info, msg_detailed_info, msg_new_detailed_info, and — where the spec is
    /// silent — the raw replies destroy_session_ok/none and destroy_auth_key_ok/none/fail, which like pong
    /// answer a service call and need no acknowledgement.
    /// </summary>
    public static bool IsContentRelatedFromServer(uint constructorId) => constructorId switch
    {
        ConstructorIds.RpcResult or ConstructorIds.NewSessionCreated => true,
        _ => !ServiceSchema.IsServiceConstructor(constructorId),
    };
}
