// Drives mtcute (@mtcute/node + @mtcute/core, pinned in package.json) against an MTProto server on loopback.
//
//   node mtcute.mjs --port P --scenario S [--transport intermediate|padded|obfuscated|obfuscated-padded]
//                   [--rsa-key server.pub.pem | --auth-key <512 hex>] [--dc 2] [--timeout ms] [...]
//
// Prints ONE JSON line on stdout ({"ok":true,...} exit 0, or {"ok":false,"error":...} exit != 0); see common.cjs.
// Scenarios: connect-ping, unknown-method, future-salts, msgs-state, destroy-session, destroy-auth-key,
//            reset-session, clock-skew.
// mtcute answers only rpc_result-wrapped replies to tg.call(), so service messages are exercised through its automatic
// traffic and internal hooks (real-clients.md §3.4); every hook used here was checked in node_modules/@mtcute/core.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const common = require('./common.cjs');
const { ScenarioError, UsageError, withTimeout, sleep, authKeyInfo } = common;

function pkgVersion(name) {
    try {
        return JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
    } catch {
        return 'unknown';
    }
}
const run = common.createRun('mtcute', `${pkgVersion('@mtcute/node')} (core ${pkgVersion('@mtcute/core')})`);

const SPEC = {
    ...common.COMMON_SPEC,
    transport: { default: 'intermediate', choices: ['intermediate', 'padded', 'obfuscated', 'obfuscated-padded'] },
    'ping-interval': { int: true, min: 100, max: 600000 }, // network.pingInterval (ms); default 60000, 1000 with --wait-pong
    'wait-pong': { flag: true }, // connect-ping: also wait for a pong to mtcute's automatic ping_delay_disconnect
    reconnects: { default: '5', int: true, min: 0, max: 50 }, // reconnections allowed (100 ms apart) before giving up
};

// Service constructors mtcute writes with writeMessage (serialized bytes), for the outgoing trace.
const OUT_NAMES = {
    0x62d6b459: 'mt_msgs_ack',
    0xf3427b8c: 'mt_ping_delay_disconnect',
    0x7abe77ec: 'mt_ping',
    0xda69fb52: 'mt_msgs_state_req',
    0x7d861a08: 'mt_msg_resend_req',
    0xb921bd04: 'mt_get_future_salts',
};

run.main(async () => {
    const opts = common.parseArgs(process.argv.slice(2), SPEC);
    common.loopbackOnly(opts.host);
    const scenarios = ['connect-ping', 'unknown-method', 'future-salts', 'msgs-state', 'destroy-session', 'destroy-auth-key', 'reset-session', 'clock-skew'];
    if (!scenarios.includes(opts.scenario)) throw new UsageError(`--scenario must be one of ${scenarios.join(' | ')}`);
    run.startDeadline(opts.timeout);
    const deadline = Date.now() + opts.timeout;
    const remaining = () => Math.max(50, deadline - Date.now() - 500);

    const m = await import('@mtcute/node');
    const { addPublicKey } = await import('@mtcute/node/utils.js');
    const { BaseTelegramClient, MemoryStorage, Long, TcpTransport, SessionConnection, TransportError } = m;
    const { IntermediatePacketCodec, PaddedIntermediatePacketCodec, ObfuscatedPacketCodec } = m;

    const preKey = common.readAuthKey(opts);
    let rsa = null;
    if (opts['rsa-key']) {
        rsa = common.loadRsaPublicKey(opts['rsa-key']);
        run.result.rsaFingerprint = rsa.fingerprint.toString();
        // mtcute indexes keys by zero-padded hex but looks them up unpadded (Long.toString(16)): a fingerprint whose
        // top nibble is 0 is never found (real-clients.md §3.2). The server's test keys must avoid that.
        if (rsa.fingerprintTopByte < 0x10) {
            throw new UsageError(`RSA key fingerprint ${rsa.fingerprintHex} has a top byte < 0x10: mtcute can never find it; generate another key`);
        }
    } else if (!preKey) {
        throw new UsageError('give --rsa-key (to create an auth key) or --auth-key (pre-shared)');
    }

    // ---------------- instrumentation (prototype hooks, installed before any connection exists) ----------------
    const events = []; // { ms, type, ... } in arrival order
    const waiters = new Set();
    const emit = e => {
        const entry = { ms: common.elapsed(), ...e };
        events.push(entry);
        for (const w of waiters) w();
        return entry;
    };
    // Fails every wait at once when mtcute stops reconnecting (reconnect budget spent): nothing more can happen.
    let rejectGaveUp;
    const gaveUp = new Promise((_, reject) => {
        rejectGaveUp = reject;
    });
    gaveUp.catch(() => {});
    const orGaveUp = p => Promise.race([p, gaveUp]);
    // Wait for the first event at index >= from that matches pred.
    function waitEvent(pred, ms, what, from = 0) {
        return withTimeout(
            orGaveUp(
                new Promise(resolve => {
                    const check = () => {
                        for (let i = from; i < events.length; i++) {
                            if (pred(events[i])) {
                                waiters.delete(check);
                                resolve(events[i]);
                                return true;
                            }
                        }
                        return false;
                    };
                    if (!check()) waiters.add(check);
                }),
            ),
            ms,
            what,
        );
    }

    const str = v => (v === undefined || v === null ? v : v.toString());
    function describeIn(msg) {
        const e = { type: msg._ };
        switch (msg._) {
            case 'mt_bad_msg_notification':
                Object.assign(e, { errorCode: msg.errorCode, badMsgId: str(msg.badMsgId) });
                break;
            case 'mt_bad_server_salt':
                Object.assign(e, { errorCode: msg.errorCode, badMsgId: str(msg.badMsgId), newServerSalt: str(msg.newServerSalt) });
                break;
            case 'mt_new_session_created':
                Object.assign(e, { firstMsgId: str(msg.firstMsgId), uniqueId: str(msg.uniqueId), serverSalt: str(msg.serverSalt) });
                break;
            case 'mt_future_salts':
                Object.assign(e, {
                    reqMsgId: str(msg.reqMsgId),
                    now: msg.now,
                    salts: msg.salts.map(s => ({ validSince: s.validSince, validUntil: s.validUntil, salt: str(s.salt) })),
                });
                break;
            case 'mt_msgs_state_info':
                Object.assign(e, { reqMsgId: str(msg.reqMsgId), info: Array.from(msg.info) });
                break;
            case 'mt_pong':
                Object.assign(e, { msgId: str(msg.msgId), pingId: str(msg.pingId) });
                break;
            case 'mt_destroy_session_ok':
            case 'mt_destroy_session_none':
                e.sessionId = str(msg.sessionId);
                break;
            case 'mt_msgs_ack':
                e.msgIds = msg.msgIds.map(str);
                break;
            default:
                break;
        }
        return e;
    }

    const P = SessionConnection.prototype;
    const hook = (name, wrap) => {
        const orig = P[name];
        if (typeof orig !== 'function') throw new Error(`mtcute internals changed: SessionConnection.${name} is missing`);
        P[name] = wrap(orig);
    };
    let dropNextRpcResult = false;
    hook('_handleMessage', orig =>
        function (messageId, message) {
            const e = emit({ dir: 'in', msgId: str(messageId), ...describeIn(message) });
            run.traceIn(e);
            return orig.call(this, messageId, message);
        },
    );
    hook('_onRpcResult', orig =>
        function (messageId, message) {
            const pos = message.pos;
            const e = { dir: 'in', type: 'rpc_result', msgId: str(messageId) };
            let inner = null;
            try {
                const req = message.long();
                e.reqMsgId = str(req);
                const pending = this._session.pendingMessages.get(req);
                e.pendingKind = pending ? pending._ : 'unknown';
                if (pending && pending._ === 'rpc') e.method = pending.rpc.method;
                inner = message.object();
                e.result = inner._;
                if (inner._ === 'mt_rpc_error') e.rpcError = { code: inner.errorCode, message: inner.errorMessage };
            } catch {
                e.result = e.result || 'unparsed';
            } finally {
                message.pos = pos;
            }
            emit(e);
            run.traceIn(e);
            // A wrapped service reply (destroy_session_*, destroy_auth_key_*, pong...) also counts as that reply.
            if (inner && inner._ && inner._.startsWith('mt_') && inner._ !== 'mt_rpc_error') {
                emit({ dir: 'in', wrapped: true, ...describeIn(inner) });
            }
            if (dropNextRpcResult && e.pendingKind === 'rpc') {
                dropNextRpcResult = false;
                emit({ dir: 'local', type: 'dropped_rpc_result', reqMsgId: e.reqMsgId });
                return undefined; // as if the answer was lost: mtcute must recover through msgs_state_req
            }
            return orig.call(this, messageId, message);
        },
    );
    hook('onConnected', orig =>
        function (...a) {
            emit({ dir: 'local', type: 'tcp_open', authKeyReady: this._session._authKey.ready });
            if (!this._session.__traced) {
                this._session.__traced = true;
                const session = this._session;
                const origWrite = session.writeMessage.bind(session);
                session.writeMessage = (writer, content, isContentRelated) => {
                    const msgId = origWrite(writer, content, isContentRelated);
                    const e = { dir: 'out', msgId: str(msgId) };
                    if (ArrayBuffer.isView(content)) {
                        const dv = new DataView(content.buffer, content.byteOffset, content.byteLength);
                        const id = dv.getUint32(0, true);
                        e.type = OUT_NAMES[id] || `0x${id.toString(16)}`;
                        if (id === 0xda69fb52 && content.byteLength >= 12) {
                            const n = dv.getUint32(8, true);
                            e.msgIds = [];
                            for (let i = 0; i < n && 12 + 8 * i + 8 <= content.byteLength; i++) e.msgIds.push(dv.getBigInt64(12 + 8 * i, true).toString());
                        }
                    } else {
                        e.type = content._;
                        if (content.sessionId) e.sessionId = str(content.sessionId);
                    }
                    e.sessionIdOfSender = str(session._sessionId);
                    emit(e);
                    run.traceOut(e);
                    return msgId;
                };
            }
            return orig.apply(this, a);
        },
    );
    hook('onConnectionUsable', orig =>
        function (...a) {
            emit({ dir: 'local', type: 'usable', sessionId: str(this._session._sessionId), ...authKeyInfo(this._session._authKey.key) });
            return orig.apply(this, a);
        },
    );
    hook('sendRpc', orig =>
        function (request, ...a) {
            const e = emit({ dir: 'out', type: 'rpc', method: request._ });
            run.traceOut(e);
            return orig.call(this, request, ...a);
        },
    );
    hook('handleError', orig =>
        function (error) {
            const e = emit({ dir: 'local', type: error instanceof TransportError ? 'transport_error' : 'error', code: error && error.code, message: String(error && error.message) });
            run.traceIn(e);
            return orig.call(this, error);
        },
    );
    hook('_resetSession', orig =>
        function (reason) {
            const e = emit({ dir: 'local', type: 'session_reset', reason, oldSessionId: str(this._session._sessionId) });
            run.traceIn(e);
            return orig.call(this, reason);
        },
    );
    hook('_authorize', orig =>
        function (...a) {
            emit({ dir: 'local', type: 'handshake_start' });
            return orig.apply(this, a);
        },
    );

    // ---------------- client ----------------
    const codecs = {
        intermediate: () => new IntermediatePacketCodec(),
        padded: () => new PaddedIntermediatePacketCodec(),
        obfuscated: () => new ObfuscatedPacketCodec(new IntermediatePacketCodec()),
        'obfuscated-padded': () => new ObfuscatedPacketCodec(new PaddedIntermediatePacketCodec()),
    };
    class Transport extends TcpTransport {
        packetCodec() {
            return codecs[opts.transport]();
        }
    }
    const storage = new MemoryStorage();
    if (preKey) await storage.authKeys.set(opts.dc, new Uint8Array(preKey));
    const dc = { id: opts.dc, ipAddress: opts.host, port: opts.port };
    let reconnects = 0;
    const tg = new BaseTelegramClient({
        apiId: 1,
        apiHash: 'x',
        storage,
        defaultDcs: { main: dc, media: { ...dc, mediaOnly: true } },
        logLevel: opts.verbose ? 5 : 0,
        disableUpdates: true,
        transport: new Transport(),
        // bounded reconnection: session resets and -404 handling reconnect on purpose
        reconnectionStrategy: () => {
            reconnects++;
            emit({ dir: 'local', type: 'reconnect', n: reconnects });
            if (reconnects <= opts.reconnects) return 100;
            const last = [...events].reverse().find(e => e.type === 'error' || e.type === 'transport_error');
            rejectGaveUp(new ScenarioError(`connection lost and mtcute gave up after ${opts.reconnects} reconnect(s)${last ? `; last error: ${last.code ?? ''} ${last.message ?? ''}` : ''}`));
            return false;
        },
        network: {
            floodControl: false,
            middlewares: [], // no retry middleware: a 5xx would otherwise be retried forever
            pingInterval: opts['ping-interval'] ?? (opts['wait-pong'] ? 1000 : 60000),
        },
    });
    run.setTeardown(() => tg.destroy());
    if (rsa) addPublicKey(tg.crypto, rsa.pem);

    run.step('connect', { transport: opts.transport, preSharedKey: !!preKey });
    await withTimeout(tg.connect(), remaining(), 'tg.connect()'); // resolves at once; the connection loop runs on
    const conn = () => tg.mt.network._primaryDc.main._connections[0];
    const c = conn();
    if (opts['wait-pong']) c._randomDelay = 0; // no 0..5 s jitter on the ping schedule
    const firstUsable = await waitEvent(e => e.type === 'usable', remaining(), 'the connection to become usable (auth key ready)');
    Object.assign(run.result, {
        newAuthKey: !preKey,
        handshakes: events.filter(e => e.type === 'handshake_start').length,
        authKeyId: firstUsable.authKeyId,
        authKeyLength: firstUsable.authKeyLength,
        sessionId: firstUsable.sessionId,
    });
    if (opts['print-auth-key']) run.result.authKey = Buffer.from(c._session._authKey.key).toString('hex');

    // An RPC round trip with a method the server cannot know: the answer must be rpc_error 400.
    const methodId = common.parseConstructorId(opts.method);
    const methodName = 'interop.unknownMethod';
    tg.mt._writerMap[methodName] = w => w.uint(methodId);
    async function unknownCall(what) {
        try {
            const r = await orGaveUp(tg.call({ _: methodName }, { timeout: remaining() }));
            throw new ScenarioError(`${what}: unknown method 0x${methodId.toString(16)} answered with ${r && r._} instead of rpc_error`);
        } catch (e) {
            if (e instanceof ScenarioError) throw e;
            if (typeof e.code !== 'number') throw e;
            if (e.text === 'TIMEOUT') throw new ScenarioError(`${what}: no answer (mtcute call timeout)`);
            if (e.code !== 400) throw new ScenarioError(`${what}: expected rpc_error 400, got ${e.code} ${e.text}`);
            return { code: e.code, message: e.text };
        }
    }

    const s = opts.scenario;
    run.step('rpc', { method: `0x${methodId.toString(16)}` });
    run.result.rpcError = await unknownCall('first rpc');
    run.result.salt = str(c._salts.currentSalt);

    if (s === 'connect-ping') {
        if (opts['wait-pong']) {
            run.step('wait-pong');
            const pong = await waitEvent(e => e.type === 'mt_pong', remaining(), 'a pong to the automatic ping_delay_disconnect');
            run.result.pong = { pingId: pong.pingId, msgId: pong.msgId, wrapped: !!pong.wrapped };
        }
    } else if (s === 'unknown-method') {
        // the round trip above is the scenario
    } else if (s === 'future-salts') {
        run.step('wait-future-salts');
        const fs = await waitEvent(e => e.type === 'mt_future_salts', remaining(), 'future_salts (answer to the automatic get_future_salts)');
        run.step('more-rpcs');
        await unknownCall('rpc after salts 1');
        await unknownCall('rpc after salts 2');
        Object.assign(run.result, {
            now: fs.now,
            salts: fs.salts,
            wrapped: !!fs.wrapped,
            currentSalt: str(c._salts.currentSalt),
            futureSaltsKept: c._salts._futureSalts.length,
            // mtcute re-asks on every flush while it keeps < 2 future salts: 1 means the server gave enough.
            getFutureSaltsSent: events.filter(e => e.dir === 'out' && e.type === 'mt_get_future_salts').length,
        });
    } else if (s === 'msgs-state') {
        // 1. Automatic: lose one rpc_result client-side; mtcute asks msgs_state_req after 1.5 s and must recover
        //    (status & 7 == 4 with bit 64 "answer generated" makes it re-send the query under a new msg_id).
        run.step('lost-answer');
        const from = events.length;
        dropNextRpcResult = true;
        run.result.recoveredRpc = await unknownCall('rpc whose first answer was lost');
        const auto = events.slice(from);
        run.result.automatic = {
            stateReqs: auto.filter(e => e.dir === 'out' && e.type === 'mt_msgs_state_req').map(e => ({ msgId: e.msgId, msgIds: e.msgIds })),
            stateInfos: auto.filter(e => e.type === 'mt_msgs_state_info').map(e => ({ reqMsgId: e.reqMsgId, info: e.info, wrapped: !!e.wrapped })),
            rpcResults: auto.filter(e => e.type === 'rpc_result').map(e => ({ reqMsgId: e.reqMsgId, result: e.result })),
        };
        if (run.result.automatic.stateReqs.length === 0) throw new ScenarioError('mtcute sent no msgs_state_req for the unanswered query');
        // 2. Manual: ask about ids the server never saw.
        run.step('manual-state-req');
        const now = c._session.getServerTime();
        const ids = [
            { label: 'never-sent', msgId: c._session.getMessageId() },
            { label: 'too-high', msgId: Long.fromBits(0, now + 120) },
            { label: 'too-low', msgId: Long.fromBits(0, now - 600) },
        ];
        const mark = events.length;
        c._session.queuedStateReq.push(...ids.map(i => i.msgId));
        c._flushTimer.emitNow();
        const info = await waitEvent(e => e.type === 'mt_msgs_state_info', remaining(), 'msgs_state_info for the manual msgs_state_req', mark);
        run.result.manual = { reqMsgId: info.reqMsgId, wrapped: !!info.wrapped, states: ids.map((i, k) => ({ label: i.label, msgId: str(i.msgId), status: info.info[k] ?? null })) };
        if (info.info.length !== ids.length) throw new ScenarioError(`msgs_state_info has ${info.info.length} status bytes for ${ids.length} ids`);
    } else if (s === 'destroy-session') {
        const target = opts['target-session'] ? Long.fromString(opts['target-session'], false, 10) : Long.fromString(common.randomInt64().toString(), false, 10);
        run.step('destroy-session', { target: target.toString() });
        const mark = events.length;
        c._queuedDestroySession.push(target);
        c._flushTimer.emitNow();
        const r = await waitEvent(
            e => (e.type === 'mt_destroy_session_ok' || e.type === 'mt_destroy_session_none') && e.sessionId === target.toString(),
            remaining(),
            'destroy_session_ok/none',
            mark,
        );
        run.result.destroy = { sessionId: target.toString(), answer: r.type.replace(/^mt_/, ''), wrapped: !!r.wrapped };
    } else if (s === 'reset-session') {
        const oldSession = str(c._session._sessionId);
        run.step('reset', { oldSession });
        const mark = events.length;
        c._resetSession('interop reset-session'); // new session id, reconnect, destroy_session(old) in the first flush
        await waitEvent(e => e.type === 'usable', remaining(), 'usable again after the session reset', mark);
        run.step('rpc-new-session');
        run.result.rpcAfterReset = await unknownCall('rpc on the new session');
        const r = await waitEvent(
            e => (e.type === 'mt_destroy_session_ok' || e.type === 'mt_destroy_session_none') && e.sessionId === oldSession,
            remaining(),
            'the answer to destroy_session(old session)',
            mark,
        );
        Object.assign(run.result, {
            oldSessionId: oldSession,
            newSessionId: str(c._session._sessionId),
            destroy: { sessionId: oldSession, answer: r.type.replace(/^mt_/, ''), wrapped: !!r.wrapped },
            destroySent: events.slice(mark).some(e => e.dir === 'out' && e.type === 'mt_destroy_session' && e.sessionId === oldSession),
        });
    } else if (s === 'destroy-auth-key') {
        const before = authKeyInfo(c._session._authKey.key);
        run.step('destroy-auth-key');
        const mark = events.length;
        tg.mt.network._primaryDc.main.destroyAuthKey();
        const r = await waitEvent(e => /^mt_destroy_auth_key_(ok|none|fail)$/.test(e.type), remaining(), 'destroy_auth_key_ok/none/fail', mark);
        run.result.destroy = { answer: r.type.replace(/^mt_/, ''), wrapped: !!r.wrapped };
        run.result.authKeyIdBefore = before.authKeyId;
        if (rsa) {
            // The server forgets the key: its frames get -404; mtcute reconnects once, then drops the key and makes a new one.
            run.step('rpc-after-destroy');
            run.result.rpcAfterDestroy = await unknownCall('rpc after destroy_auth_key');
            const after = authKeyInfo(c._session._authKey.key);
            Object.assign(run.result, {
                authKeyIdAfter: after.authKeyId,
                authKeyLengthAfter: after.authKeyLength,
                newKeyCreated: after.authKeyId !== before.authKeyId,
                transportErrors: events.slice(mark).filter(e => e.type === 'transport_error').map(e => e.code),
            });
        } else {
            run.result.rpcAfterDestroy = 'skipped: no --rsa-key to create a new key';
        }
    } else if (s === 'clock-skew') {
        run.step('skew', { skew: opts.skew });
        const before = c._session._timeOffset;
        const mark = events.length;
        c._session._timeOffset = before + opts.skew;
        c._session._lastMessageId = Long.ZERO;
        run.result.rpcAfterSkew = await unknownCall('rpc with a skewed clock');
        const after = events.slice(mark);
        Object.assign(run.result, {
            skew: opts.skew,
            badMsgCodes: after.filter(e => e.type === 'mt_bad_msg_notification').map(e => e.errorCode),
            sessionResets: after.filter(e => e.type === 'session_reset').map(e => e.reason),
            timeOffsetError: c._session._timeOffset - before, // ~0 once corrected
        });
        if (run.result.badMsgCodes.length === 0) throw new ScenarioError(`no bad_msg_notification for a clock off by ${opts.skew} s`);
    }
    run.result.reconnects = reconnects;
    await sleep(0);
    return {};
});
