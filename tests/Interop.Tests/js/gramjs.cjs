'use strict';
// Drives GramJS (npm "telegram", pinned in package.json) against an MTProto server on loopback.
//
//   node gramjs.cjs --port P --scenario S [--transport full|abridged|obfuscated] [--mode sender|client]
//                   [--rsa-key server.pub.pem | --auth-key <512 hex>] [--dc 2] [--timeout ms] [...]
//
// Prints ONE JSON line on stdout ({"ok":true,...} exit 0, or {"ok":false,"error":...} exit != 0); see common.cjs.
// Scenarios: connect-ping, destroy-session, msgs-state, clock-skew, unknown-method, ping-delay-disconnect.
// Facts used here: /work/shared/mtproto/real-clients.md §2 (and the sources under node_modules/telegram).

const common = require('./common.cjs');
const { ScenarioError, UsageError, withTimeout, waitFor, sleep, authKeyInfo } = common;

const run = common.createRun('gramjs', safeVersion());

const SPEC = {
    ...common.COMMON_SPEC,
    transport: { default: 'full', choices: ['full', 'abridged', 'obfuscated'] },
    mode: { default: 'sender', choices: ['sender', 'client'] },
    // Handshake attempts on one connection: GramJS fails an attempt on dh_gen_retry (real-clients.md §2.2);
    // with 2 it starts a fresh req_pq_multi on the same TCP connection after a failed attempt.
    'handshake-retries': { default: '1', int: true, min: 1, max: 10 },
    delay: { default: '2', int: true, min: 1, max: 300 }, // ping-delay-disconnect: disconnect_delay, seconds
    renew: { flag: true }, // ping-delay-disconnect: renew once at delay/2 before the server closes
};

// The package's own version: telegram 2.26.22 still says "2.26.21" in require('telegram').version (Version.js).
function safeVersion() {
    try {
        const path = require('node:path');
        const dir = path.dirname(require.resolve('telegram'));
        return JSON.parse(require('node:fs').readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
    } catch {
        return 'unknown';
    }
}

run.main(async () => {
    const opts = common.parseArgs(process.argv.slice(2), SPEC);
    common.loopbackOnly(opts.host);
    run.startDeadline(opts.timeout);
    const deadline = Date.now() + opts.timeout;
    const remaining = () => Math.max(50, deadline - Date.now() - 500);

    const { Api } = require('telegram');
    const bigInt = require('big-integer');
    const { Logger, LogLevel } = require('telegram/extensions/Logger');
    const { PromisedNetSockets } = require('telegram/extensions');
    const { ConnectionTCPFull, ConnectionTCPAbridged, ConnectionTCPObfuscated, MTProtoSender } = require('telegram/network');
    const { AuthKey } = require('telegram/crypto/AuthKey');
    const RSA = require('telegram/crypto/RSA');
    const Authenticator = require('telegram/network/Authenticator');
    const { RequestState } = require('telegram/network/RequestState');

    const logger = new Logger(opts.verbose ? LogLevel.DEBUG : LogLevel.NONE);
    const Conn = { full: ConnectionTCPFull, abridged: ConnectionTCPAbridged, obfuscated: ConnectionTCPObfuscated }[opts.transport];
    const scenarios = ['connect-ping', 'destroy-session', 'msgs-state', 'clock-skew', 'unknown-method', 'ping-delay-disconnect'];
    if (!scenarios.includes(opts.scenario)) throw new UsageError(`--scenario must be one of ${scenarios.join(' | ')}`);

    const preKey = common.readAuthKey(opts);
    let rsa = null;
    if (opts['rsa-key']) {
        rsa = common.loadRsaPublicKey(opts['rsa-key']);
        // GramJS keys _serverKeys by the SIGNED decimal fingerprint (crypto/RSA.js).
        RSA._serverKeys.set(rsa.fingerprint.toString(), { n: bigInt(rsa.n.toString('hex'), 16), e: Number(BigInt('0x' + rsa.e.toString('hex'))) });
        run.result.rsaFingerprint = rsa.fingerprint.toString();
    } else if (!preKey) {
        throw new UsageError('give --rsa-key (to create an auth key) or --auth-key (pre-shared)');
    }

    // Count handshake attempts (MTProtoSender calls Authenticator.doAuthentication through the module object).
    const handshake = { attempts: 0, errors: [], connectErrors: [] };
    const origDoAuth = Authenticator.doAuthentication;
    Authenticator.doAuthentication = async (...args) => {
        handshake.attempts++;
        try {
            return await origDoAuth(...args);
        } catch (e) {
            handshake.errors.push(String(e && e.message ? e.message : e));
            throw e;
        }
    };

    // msgs_state_info.info is declared "string" in GramJS's schema and decoded as UTF-8, which mangles status bytes
    // >= 0x80 (e.g. 4|128). Read it as raw bytes instead.
    Api.MsgsStateInfo.fromReader = reader => new Api.MsgsStateInfo({ reqMsgId: reader.readLong(), info: reader.tgReadBytes() });

    // Fails every pending wait at once when GramJS loses its connection and cannot get it back (its reconnect
    // runs connect() again, which resolves false after `handshake-retries` failed attempts).
    let rejectLost;
    const lost = new Promise((_, reject) => {
        rejectLost = reject;
    });
    lost.catch(() => {});
    const orLost = p => Promise.race([p, lost]);

    const senders = [];
    let client = null;
    run.setTeardown(async () => {
        if (client) await client.destroy();
        for (const s of senders) {
            s.userDisconnected = true;
            await s.disconnect();
        }
    });

    // ---------------- connect ----------------
    async function presetKey(bytes) {
        const ak = new AuthKey();
        await ak.setKey(Buffer.from(bytes));
        return ak;
    }

    function instrument(sender, label) {
        sender.__instrumented = true;
        let connects = 0;
        const origConnect = sender.connect.bind(sender);
        sender.connect = async (...a) => {
            const ok = await origConnect(...a);
            if (connects++ > 0 && !ok && !sender.userDisconnected) {
                const why = handshake.connectErrors.length ? `: ${handshake.connectErrors[handshake.connectErrors.length - 1]}` : '';
                rejectLost(new ScenarioError(`${label}: connection lost and GramJS could not reconnect${why}`));
            }
            return ok;
        };
        // Incoming: every decoded object, also inside containers and gzip (_processMessage recurses).
        const origProcess = sender._processMessage.bind(sender);
        sender._processMessage = async message => {
            const obj = await message.obj;
            const e = { conn: label, type: obj && obj.className, msgId: message.msgId && message.msgId.toString() };
            if (obj && obj.className === 'BadMsgNotification') e.errorCode = obj.errorCode;
            if (obj && obj.className === 'BadServerSalt') e.errorCode = obj.errorCode;
            if (obj && obj.className === 'RpcResult' && obj.error) e.rpcError = { code: obj.error.errorCode, message: obj.error.errorMessage };
            run.traceIn(e);
            return origProcess(message);
        };
        // Outgoing: every batch the send loop takes from the queue.
        const q = sender._sendQueue;
        const origGet = q.get.bind(q);
        q.get = async () => {
            const res = await origGet();
            if (res && res.batch) {
                run.traceOut({
                    conn: label,
                    messages: res.batch.map(s => ({ type: s.request.className || (s.request.constructor && s.request.constructor.name), msgId: s.msgId && s.msgId.toString() })),
                    container: res.batch.length > 1,
                });
            }
            return res;
        };
    }

    async function connectSender(authKey, label) {
        const sender = new MTProtoSender(authKey, {
            logger,
            dcId: opts.dc,
            retries: opts['handshake-retries'],
            delay: 100,
            isMainSender: true,
            // MTProtoSender.connect swallows errors; it hands them to the client's _errorHandler.
            client: { networkSocket: PromisedNetSockets, _errorHandler: async e => void handshake.connectErrors.push(String(e && e.message ? e.message : e)) },
            _exportedSenderPromises: new Map(),
        });
        senders.push(sender);
        instrument(sender, label);
        const conn = new Conn({ ip: opts.host, port: opts.port, dcId: opts.dc, loggers: logger, socket: PromisedNetSockets });
        // MTProtoSender.connect never throws: it returns false after `retries` failed attempts.
        const ok = await withTimeout(sender.connect(conn), remaining(), `${label} connect`);
        if (!ok) {
            const why = handshake.connectErrors.length ? `: ${handshake.connectErrors[handshake.connectErrors.length - 1]}` : '';
            throw new ScenarioError(`${label}: connect failed after ${handshake.attempts} handshake attempt(s)${why}`, { handshake });
        }
        return sender;
    }

    async function connectClient() {
        const { TelegramClient } = require('telegram');
        const { MemorySession } = require('telegram/sessions');
        // TelegramClient.connect() dials port 80 whatever setDC says (real-clients.md §2.1): pin the port in the socket.
        const port = opts.port;
        class PinnedSocket extends PromisedNetSockets {
            connect(_p, ip) {
                return super.connect(port, ip);
            }
        }
        // MemorySession, not StringSession: StringSession.save() writes the port with writeInt16BE and throws for
        // ports > 32767 (every ephemeral port), which makes connect() reject after the key exchange.
        const session = new MemorySession();
        session.setDC(opts.dc, opts.host, port);
        if (preKey) session.setAuthKey(await presetKey(preKey));
        client = new TelegramClient(session, 1, 'x', {
            connection: Conn,
            networkSocket: PinnedSocket,
            connectionRetries: opts['handshake-retries'],
            retryDelay: 100,
            requestRetries: 1,
            floodSleepThreshold: 0,
            autoReconnect: false,
            baseLogger: logger,
        });
        client._errorHandler = async e => void handshake.connectErrors.push(String(e && e.message ? e.message : e));
        // connect() = key (created or pre-shared) + invokeWithLayer(initConnection(help.getConfig)): any parseable
        // object answers it (real-clients.md §2.5). It resolves false (never throws) when the transport fails.
        const origConnect = MTProtoSender.prototype.connect;
        MTProtoSender.prototype.connect = function (...a) {
            if (!this.__instrumented) instrument(this, 'main');
            return origConnect.apply(this, a);
        };
        const ok = await withTimeout(client.connect(), remaining(), 'TelegramClient.connect (key + initConnection)');
        if (!ok) {
            const why = handshake.connectErrors.length ? `: ${handshake.connectErrors[handshake.connectErrors.length - 1]}` : '';
            throw new ScenarioError(`TelegramClient.connect failed after ${handshake.attempts} handshake attempt(s)${why}`, { handshake });
        }
        return client._sender;
    }

    run.step('connect', { mode: opts.mode, transport: opts.transport, preSharedKey: !!preKey });
    const main = opts.mode === 'client' ? await connectClient() : await connectSender(preKey ? await presetKey(preKey) : new AuthKey(), 'main');
    const key = main.authKey.getKey();
    Object.assign(run.result, { newAuthKey: !preKey, handshakeAttempts: handshake.attempts, handshakeErrors: handshake.errors, ...authKeyInfo(key) });
    if (opts['print-auth-key']) run.result.authKey = Buffer.from(key).toString('hex');
    run.result.sessionId = main._state.id.toString();

    // Raw send with a RequestState we keep, so the final msg_id (after bad_server_salt resends) is known.
    async function send(sender, req, what) {
        const st = new RequestState(req);
        sender._sendQueue.append(st);
        const value = await withTimeout(orLost(st.promise), remaining(), what);
        return { value, msgId: st.msgId };
    }
    // The client's own path in client mode (TelegramClient.invoke), the raw sender otherwise.
    async function invoke(sender, req, what) {
        if (client && sender === main) return withTimeout(orLost(client.invoke(req)), remaining(), what);
        return (await send(sender, req, what)).value;
    }

    async function ping(sender, what) {
        const pingId = bigInt(common.randomInt64().toString());
        const pong = await invoke(sender, new Api.Ping({ pingId }), what);
        if (!(pong instanceof Api.Pong)) throw new ScenarioError(`${what}: expected Pong, got ${pong && pong.className}`);
        if (!pong.pingId.equals(pingId)) throw new ScenarioError(`${what}: pong.ping_id ${pong.pingId} != ${pingId}`);
        return { pingId: pingId.toString(), pongMsgId: pong.msgId.toString() };
    }

    // Bare replies never resolve GramJS calls (they go to _handleUpdate); catch them by patching the jump table.
    function catchBare(sender, ctorNames) {
        const got = [];
        let wake;
        for (const n of ctorNames) {
            sender._handlers[Api[n].CONSTRUCTOR_ID.toString()] = async message => {
                got.push(message.obj);
                if (wake) wake();
            };
        }
        return {
            got,
            next: ms =>
                withTimeout(
                    new Promise(r => {
                        if (got.length) return r(got.shift());
                        wake = () => {
                            wake = null;
                            r(got.shift());
                        };
                    }),
                    ms,
                    `bare ${ctorNames.join('/')}`,
                ),
        };
    }

    // ---------------- scenarios ----------------
    const s = opts.scenario;
    if (s === 'connect-ping') {
        run.step('ping');
        Object.assign(run.result, await ping(main, 'ping'));
        run.result.salt = main._state.salt.toString(); // non-zero once bad_server_salt / new_session_created was handled
    } else if (s === 'unknown-method') {
        const id = common.parseConstructorId(opts.method);
        run.step('unknown-method', { constructorId: '0x' + id.toString(16) });
        const req = {
            classType: 'request',
            className: 'UnknownMethod',
            CONSTRUCTOR_ID: id,
            getBytes: () => {
                const b = Buffer.alloc(4);
                b.writeUInt32LE(id, 0);
                return b;
            },
            readResult: r => r.tgReadObject(),
        };
        try {
            const r = (await send(main, req, 'unknown method')).value;
            throw new ScenarioError(`unknown method 0x${id.toString(16)} answered with ${r && r.className} instead of rpc_error`);
        } catch (e) {
            if (e instanceof ScenarioError) throw e;
            if (e.code === undefined || e.errorMessage === undefined) throw e;
            run.result.rpcError = { code: e.code, message: e.errorMessage };
            if (e.code !== 400) throw new ScenarioError(`expected rpc_error 400, got ${e.code} ${e.errorMessage}`);
        }
    } else if (s === 'destroy-session') {
        // Session A (main) destroys session B of the same auth key, twice, then a session nobody has.
        run.step('ping-a');
        await ping(main, 'ping A');
        const results = [];
        const bare = catchBare(main, ['DestroySessionOk', 'DestroySessionNone']);
        async function destroy(sessionId, label) {
            const wrapped = send(main, new Api.DestroySession({ sessionId: bigInt(String(sessionId)) }), `destroy_session ${label}`);
            wrapped.catch(() => {});
            const which = await Promise.race([
                wrapped.then(r => ({ obj: r.value, wrapped: true })),
                orLost(bare.next(remaining())).then(obj => ({ obj, wrapped: false })),
            ]);
            const r = { target: label, sessionId: String(sessionId), answer: which.obj.className, answerSessionId: which.obj.sessionId.toString(), wrapped: which.wrapped };
            results.push(r);
            return r;
        }
        if (opts['target-session']) {
            run.step('destroy-target');
            await destroy(BigInt(opts['target-session']), 'given');
        } else {
            run.step('connect-b');
            const b = await connectSender(await presetKey(key), 'b');
            await ping(b, 'ping B');
            const bId = b._state.id.toString();
            run.step('destroy-b');
            await destroy(bId, 'live session B');
            run.step('destroy-b-again');
            await destroy(bId, 'destroyed session B');
            run.step('destroy-unknown');
            await destroy(common.randomInt64(), 'unknown session');
            // B keeps its connection and session id: what does the server do with B's next message?
            run.step('ping-b-after');
            try {
                await ping(b, 'ping B after destroy');
                run.result.pingBAfterDestroy = 'pong';
            } catch (e) {
                run.result.pingBAfterDestroy = `error: ${e.message}`;
            }
            run.result.sessionIdB = bId;
        }
        run.result.destroy = results;
    } else if (s === 'msgs-state') {
        run.step('ping');
        const pingReq = await send(main, new Api.Ping({ pingId: bigInt(7) }), 'ping');
        const nowSec = Math.floor(Date.now() / 1000) + main._state.timeOffset;
        const ids = [
            { label: 'answered', msgId: bigInt(pingReq.msgId.toString()) },
            { label: 'never-sent', msgId: main._state._getNewMsgId() },
            { label: 'too-high', msgId: bigInt(nowSec + 120).shiftLeft(32) },
            { label: 'too-low', msgId: bigInt(nowSec - 600).shiftLeft(32) },
        ];
        run.step('msgs_state_req');
        // msgs_state_req is a constructor in GramJS's schema: send it raw, catch msgs_state_info in the jump table.
        const bare = catchBare(main, ['MsgsStateInfo']);
        main._sendQueue.append(new RequestState(new Api.MsgsStateReq({ msgIds: ids.map(i => i.msgId) })));
        const info = await orLost(bare.next(remaining()));
        const bytes = Buffer.from(info.info);
        run.result.reqMsgId = info.reqMsgId.toString();
        run.result.states = ids.map((i, k) => ({ label: i.label, msgId: i.msgId.toString(), status: k < bytes.length ? bytes[k] : null }));
        if (bytes.length !== ids.length) throw new ScenarioError(`msgs_state_info has ${bytes.length} status bytes for ${ids.length} ids`);
    } else if (s === 'clock-skew') {
        run.step('ping-before');
        await ping(main, 'ping before skew');
        const st = main._state;
        const before = st.timeOffset;
        st.timeOffset = before + opts.skew; // msg_ids now carry a wrong time
        st._lastMsgId = bigInt.zero; // otherwise a negative skew is hidden by the monotonic msg_id rule
        run.step('ping-skewed', { skew: opts.skew });
        const seen = run.trace.in.length;
        const p = await ping(main, 'ping with skewed clock');
        const codes = run.trace.in.slice(seen).filter(e => e.type === 'BadMsgNotification').map(e => e.errorCode);
        Object.assign(run.result, { skew: opts.skew, timeOffsetBefore: before, timeOffsetAfter: st.timeOffset, badMsgCodes: codes, ...p });
        if (codes.length === 0) throw new ScenarioError(`no bad_msg_notification for a clock off by ${opts.skew} s`);
    } else if (s === 'ping-delay-disconnect') {
        run.step('ping-delay-disconnect', { delay: opts.delay });
        let closedAt = null;
        const sock = main._connection.socket.client;
        sock.on('close', () => {
            closedAt = Date.now();
            main.userDisconnected = true; // stop GramJS from reconnecting (its recv loop checks this flag later)
        });
        const pd = async () => {
            const pingId = bigInt(common.randomInt64().toString());
            const pong = await invoke(main, new Api.PingDelayDisconnect({ pingId, disconnectDelay: opts.delay }), 'ping_delay_disconnect');
            if (!(pong instanceof Api.Pong) || !pong.pingId.equals(pingId)) throw new ScenarioError('ping_delay_disconnect: bad pong');
            return Date.now();
        };
        let lastPing = await pd();
        run.result.firstPong = true;
        if (opts.renew) {
            await sleep((opts.delay * 1000) / 2);
            if (closedAt) throw new ScenarioError(`connection closed before the renewal, ${closedAt - lastPing} ms after the ping`);
            lastPing = await pd();
            run.result.renewed = true;
        }
        run.step('wait-close');
        await waitFor(() => closedAt, Math.min(remaining(), opts.delay * 1000 + 10000), 'the server to close the connection');
        run.result.closedAfterMs = closedAt - lastPing;
    }
    return {};
});
