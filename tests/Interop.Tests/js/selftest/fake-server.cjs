'use strict';
// A deliberately small MTProto 2.0 server used ONLY to self-test the client drivers (gramjs.cjs, mtcute.mjs) while
// the real gateway does not exist. It is not MtActors and proves nothing about MtActors: its job is to let every
// driver scenario run end to end. Loopback only, one process, in-memory state.
//
//   node selftest/fake-server.cjs --rsa-priv key.pem [--wrap-destroy] [--port 0] [--preshared-key <512 hex>]
// prints {"port":N,"fingerprint":"..."} on stdout once listening; logs to stderr with --log.
//
// Behaviour (the documented one, replies bare unless --wrap-destroy): transports abridged | intermediate | padded |
// full | obfuscated; req_pq_multi -> req_DH_params (RSA_PAD) -> set_client_DH_params (g=3, known prime) -> dh_gen_ok;
// new_session_created; bad_server_salt (48); bad_msg 16/17 on clock skew; msg_container; gzip_packed; msgs_ack;
// ping / ping_delay_disconnect; get_future_salts; msgs_state_req; destroy_session; destroy_auth_key (then -404);
// rpc_drop_answer; invokeWithLayer / initConnection / invokeWithoutUpdates / invokeAfterMsg unwrapped;
// help.getConfig -> boolTrue; anything else -> rpc_error 400 METHOD_INVALID.

const net = require('node:net');
const crypto = require('node:crypto');
const zlib = require('node:zlib');
const fs = require('node:fs');

const args = process.argv.slice(2);
const opt = name => {
    const i = args.indexOf('--' + name);
    return i >= 0 ? args[i + 1] : undefined;
};
const flag = name => args.includes('--' + name);
const LOG = flag('log');
const log = (...a) => LOG && process.stderr.write('[fake] ' + a.join(' ') + '\n');
const WRAP_DESTROY = flag('wrap-destroy');

const privPem = fs.readFileSync(opt('rsa-priv'), 'utf8');
const privKey = crypto.createPrivateKey(privPem);
const jwk = crypto.createPublicKey(privKey).export({ format: 'jwk' });
const strip = b => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    return b.subarray(i);
};
const N = strip(Buffer.from(jwk.n, 'base64url'));
const E = strip(Buffer.from(jwk.e, 'base64url'));

// ---------------- TL ----------------
class W {
    constructor() {
        this.parts = [];
    }
    u32(v) {
        const b = Buffer.alloc(4);
        b.writeUInt32LE(v >>> 0);
        this.parts.push(b);
        return this;
    }
    i32(v) {
        const b = Buffer.alloc(4);
        b.writeInt32LE(v);
        this.parts.push(b);
        return this;
    }
    i64(v) {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(BigInt.asIntN(64, BigInt(v)));
        this.parts.push(b);
        return this;
    }
    raw(b) {
        this.parts.push(Buffer.from(b));
        return this;
    }
    bytes(b) {
        b = Buffer.from(b);
        const head = b.length < 254 ? Buffer.from([b.length]) : Buffer.from([254, b.length & 255, (b.length >> 8) & 255, (b.length >> 16) & 255]);
        const pad = (4 - ((head.length + b.length) % 4)) % 4;
        this.parts.push(head, b, Buffer.alloc(pad));
        return this;
    }
    done() {
        return Buffer.concat(this.parts);
    }
}
class R {
    constructor(b, pos = 0) {
        this.b = b;
        this.pos = pos;
    }
    u32() {
        const v = this.b.readUInt32LE(this.pos);
        this.pos += 4;
        return v;
    }
    i32() {
        const v = this.b.readInt32LE(this.pos);
        this.pos += 4;
        return v;
    }
    i64() {
        const v = this.b.readBigInt64LE(this.pos);
        this.pos += 8;
        return v;
    }
    raw(n) {
        if (this.pos + n > this.b.length) throw new Error('short read');
        const v = this.b.subarray(this.pos, this.pos + n);
        this.pos += n;
        return v;
    }
    bytes() {
        let len = this.b[this.pos];
        let head = 1;
        if (len === 254) {
            len = this.b[this.pos + 1] | (this.b[this.pos + 2] << 8) | (this.b[this.pos + 3] << 16);
            head = 4;
        }
        this.pos += head;
        const v = this.raw(len);
        this.pos += (4 - ((head + len) % 4)) % 4;
        return v;
    }
    longVector() {
        if (this.u32() !== 0x1cb5c415) throw new Error('expected vector');
        const n = this.u32();
        const out = [];
        for (let i = 0; i < n; i++) out.push(this.i64());
        return out;
    }
}

// ---------------- crypto helpers ----------------
const sha1 = (...b) => crypto.createHash('sha1').update(Buffer.concat(b)).digest();
const sha256 = (...b) => crypto.createHash('sha256').update(Buffer.concat(b)).digest();
function aesEcb(key, block, decrypt) {
    const c = decrypt ? crypto.createDecipheriv('aes-256-ecb', key, null) : crypto.createCipheriv('aes-256-ecb', key, null);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(block), c.final()]);
}
const xor = (a, b) => Buffer.from(a.map((v, i) => v ^ b[i]));
function igeEncrypt(data, key, iv) {
    let x = iv.subarray(16, 32);
    let y = iv.subarray(0, 16);
    const out = [];
    for (let i = 0; i < data.length; i += 16) {
        const p = data.subarray(i, i + 16);
        const c = xor(aesEcb(key, xor(p, y), false), x);
        out.push(c);
        y = c;
        x = p;
    }
    return Buffer.concat(out);
}
function igeDecrypt(data, key, iv) {
    let y = iv.subarray(0, 16);
    let x = iv.subarray(16, 32);
    const out = [];
    for (let i = 0; i < data.length; i += 16) {
        const c = data.subarray(i, i + 16);
        const p = xor(aesEcb(key, xor(c, x), true), y);
        out.push(p);
        y = c;
        x = p;
    }
    return Buffer.concat(out);
}
const toBig = b => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'));
function fromBig(v, len) {
    let h = v.toString(16);
    if (h.length % 2) h = '0' + h;
    const b = Buffer.from(h, 'hex');
    return len ? Buffer.concat([Buffer.alloc(len - b.length), b]) : b;
}
function modPow(b, e, m) {
    let r = 1n;
    b %= m;
    while (e > 0n) {
        if (e & 1n) r = (r * b) % m;
        b = (b * b) % m;
        e >>= 1n;
    }
    return r;
}
const DH_PRIME = BigInt(
    '0xC71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C3720FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F642477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B',
);
const FINGERPRINT = sha1(new W().bytes(N).bytes(E).done()).readBigInt64LE(12);

function kdf(authKey, msgKey, x) {
    const a = sha256(msgKey, authKey.subarray(x, x + 36));
    const b = sha256(authKey.subarray(40 + x, 76 + x), msgKey);
    return {
        key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]),
        iv: Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]),
    };
}

// ---------------- state ----------------
const keys = new Map(); // authKeyId (BigInt) -> { key, salt, sessions: Map<BigInt sid, session> }
if (opt('preshared-key')) {
    const key = Buffer.from(opt('preshared-key'), 'hex');
    keys.set(sha1(key).readBigInt64LE(12), { key, salt: crypto.randomBytes(8).readBigInt64LE(0), sessions: new Map(), received: new Map() });
}
let lastServerMsgId = 0n;
function serverMsgId() {
    const now = BigInt(Date.now());
    let id = ((now / 1000n) << 32n) | (((now % 1000n) * 4294967n) & 0xfffffffcn) | 1n;
    if (id <= lastServerMsgId) id = lastServerMsgId + 4n;
    lastServerMsgId = id;
    return id;
}
const nowSec = () => Math.floor(Date.now() / 1000);

// ---------------- connection ----------------
net.createServer(sock => new Conn(sock))
    .listen(Number(opt('port') || 0), '127.0.0.1', function () {
        process.stdout.write(JSON.stringify({ port: this.address().port, fingerprint: FINGERPRINT.toString() }) + '\n');
    });

class Conn {
    constructor(sock) {
        this.sock = sock;
        this.buf = Buffer.alloc(0);
        this.mode = null; // abridged | intermediate | padded | full
        this.enc = null; // obfuscation ciphers
        this.dec = null;
        this.fullSeqOut = 0;
        this.hs = null;
        this.pdTimer = null;
        sock.on('data', d => this.onData(d));
        sock.on('error', () => {});
        sock.on('close', () => clearTimeout(this.pdTimer));
    }
    onData(d) {
        if (this.dec) d = this.dec.update(d);
        this.buf = Buffer.concat([this.buf, d]);
        if (!this.mode) {
            if (this.buf.length < 1) return;
            if (this.buf[0] === 0xef) {
                this.mode = 'abridged';
                this.buf = this.buf.subarray(1);
            } else {
                if (this.buf.length < 8) return;
                const first = this.buf.readUInt32LE(0);
                if (first === 0xeeeeeeee) {
                    this.mode = 'intermediate';
                    this.buf = this.buf.subarray(4);
                } else if (first === 0xdddddddd) {
                    this.mode = 'padded';
                    this.buf = this.buf.subarray(4);
                } else if (this.buf.readUInt32LE(4) === 0) {
                    this.mode = 'full';
                } else {
                    if (this.buf.length < 64) return;
                    const init = this.buf.subarray(0, 64);
                    const rev = Buffer.from(init.subarray(8, 56)).reverse();
                    this.dec = crypto.createDecipheriv('aes-256-ctr', init.subarray(8, 40), init.subarray(40, 56));
                    this.enc = crypto.createCipheriv('aes-256-ctr', rev.subarray(0, 32), rev.subarray(32, 48));
                    const plain = this.dec.update(init);
                    const tag = plain.readUInt32LE(56);
                    this.mode = { 0xefefefef: 'abridged', 0xeeeeeeee: 'intermediate', 0xdddddddd: 'padded' }[tag];
                    if (!this.mode) return this.sock.destroy();
                    this.buf = this.dec.update(this.buf.subarray(64));
                }
            }
            log('transport', this.mode, this.enc ? '(obfuscated)' : '');
        }
        for (;;) {
            const f = this.nextFrame();
            if (!f) break;
            try {
                this.onFrame(f);
            } catch (e) {
                log('frame error', e.stack);
            }
        }
    }
    nextFrame() {
        const b = this.buf;
        let len;
        let head;
        let tail = 0;
        if (this.mode === 'abridged') {
            if (b.length < 1) return null;
            if (b[0] < 0x7f) {
                len = b[0] * 4;
                head = 1;
            } else {
                if (b.length < 4) return null;
                len = (b[1] | (b[2] << 8) | (b[3] << 16)) * 4;
                head = 4;
            }
        } else if (this.mode === 'full') {
            if (b.length < 4) return null;
            len = b.readUInt32LE(0) - 12;
            head = 8;
            tail = 4;
        } else {
            if (b.length < 4) return null;
            len = b.readUInt32LE(0);
            head = 4;
        }
        if (b.length < head + len + tail) return null;
        let frame = b.subarray(head, head + len);
        this.buf = b.subarray(head + len + tail);
        if (this.mode === 'padded') {
            // trim: unencrypted messages know their length, encrypted ones are 24 + 16k
            frame = frame.readBigInt64LE(0) === 0n ? frame.subarray(0, 20 + frame.readInt32LE(16)) : frame.subarray(0, 24 + Math.floor((frame.length - 24) / 16) * 16);
        }
        return frame;
    }
    write(payload) {
        let out;
        if (this.mode === 'abridged') {
            const n = payload.length / 4;
            out = Buffer.concat([n < 0x7f ? Buffer.from([n]) : Buffer.from([0x7f, n & 255, (n >> 8) & 255, (n >> 16) & 255]), payload]);
        } else if (this.mode === 'full') {
            const h = Buffer.alloc(8);
            h.writeUInt32LE(payload.length + 12, 0);
            h.writeUInt32LE(this.fullSeqOut++, 4);
            const body = Buffer.concat([h, payload]);
            const c = Buffer.alloc(4);
            c.writeUInt32LE(zlib.crc32(body));
            out = Buffer.concat([body, c]);
        } else {
            const pad = this.mode === 'padded' ? crypto.randomBytes(crypto.randomInt(16)) : Buffer.alloc(0);
            const h = Buffer.alloc(4);
            h.writeUInt32LE(payload.length + pad.length);
            out = Buffer.concat([h, payload, pad]);
        }
        if (this.enc) out = this.enc.update(out);
        if (!this.sock.destroyed) this.sock.write(out); // one write per frame
    }
    transportError(code) {
        const b = Buffer.alloc(4);
        b.writeInt32LE(-code);
        this.write(b);
    }
    onFrame(f) {
        const authKeyId = f.readBigInt64LE(0);
        if (authKeyId === 0n) return this.onPlain(new R(f, 20));
        const k = keys.get(authKeyId);
        if (!k) {
            log('unknown auth key', authKeyId, '-> -404');
            this.transportError(404);
            setTimeout(() => this.sock.destroy(), 50);
            return;
        }
        const msgKey = f.subarray(8, 24);
        const { key, iv } = kdf(k.key, msgKey, 0);
        const plain = igeDecrypt(f.subarray(24), key, iv);
        if (!sha256(k.key.subarray(88, 120), plain).subarray(8, 24).equals(msgKey)) return log('bad msg_key');
        const r = new R(plain);
        const salt = r.i64();
        const sid = r.i64();
        const msgId = r.i64();
        const seq = r.i32();
        const len = r.i32();
        const body = r.raw(len);
        this.onEncrypted(k, authKeyId, salt, sid, msgId, seq, body);
    }

    // ---------------- handshake ----------------
    plainReply(body) {
        this.write(new W().i64(0).i64(serverMsgId()).i32(body.length).raw(body).done());
    }
    onPlain(r) {
        const ctor = r.u32();
        if (ctor === 0xbe7e8ef1 || ctor === 0x60469778) {
            const nonce = r.raw(16);
            this.hs = { nonce, serverNonce: crypto.randomBytes(16) };
            const pq = fromBig(1229739323n * 1402015859n);
            this.plainReply(new W().u32(0x05162463).raw(nonce).raw(this.hs.serverNonce).bytes(pq).u32(0x1cb5c415).u32(1).i64(FINGERPRINT).done());
        } else if (ctor === 0xd712e4be) {
            const hs = this.hs;
            r.raw(32);
            r.bytes();
            r.bytes();
            const fp = r.i64();
            const enc = r.bytes();
            if (fp !== FINGERPRINT) return this.transportError(404);
            const dec = crypto.privateDecrypt({ key: privKey, padding: crypto.constants.RSA_NO_PADDING }, enc);
            const tempKey = xor(dec.subarray(0, 32), sha256(dec.subarray(32)));
            const dataWithHash = igeDecrypt(dec.subarray(32), tempKey, Buffer.alloc(32));
            const dataWithPadding = Buffer.from(dataWithHash.subarray(0, 192)).reverse();
            if (!sha256(tempKey, dataWithPadding).equals(dataWithHash.subarray(192))) return this.transportError(404);
            const ir = new R(dataWithPadding);
            const ictor = ir.u32(); // p_q_inner_data, _dc, _temp_dc
            ir.bytes();
            ir.bytes();
            ir.bytes();
            ir.raw(32);
            hs.newNonce = ir.raw(32);
            log('pq inner', ictor.toString(16));
            hs.a = toBig(crypto.randomBytes(256));
            const gA = modPow(3n, hs.a, DH_PRIME);
            const inner = new W().u32(0xb5890dba).raw(hs.nonce).raw(hs.serverNonce).i32(3).bytes(fromBig(DH_PRIME)).bytes(fromBig(gA, 256)).i32(nowSec()).done();
            let answer = Buffer.concat([sha1(inner), inner]);
            answer = Buffer.concat([answer, crypto.randomBytes((16 - (answer.length % 16)) % 16)]);
            const { key, iv } = tmpAes(hs);
            this.plainReply(new W().u32(0xd0e8075c).raw(hs.nonce).raw(hs.serverNonce).bytes(igeEncrypt(answer, key, iv)).done());
        } else if (ctor === 0xf5045f1f) {
            const hs = this.hs;
            r.raw(32);
            const enc = r.bytes();
            const { key, iv } = tmpAes(hs);
            const plain = igeDecrypt(enc, key, iv);
            const ir = new R(plain, 20);
            ir.u32();
            ir.raw(32);
            ir.i64();
            const gB = toBig(ir.bytes());
            // Clients keep g^ab as minimal bytes (real-clients.md §5.1). MtActors answers dh_gen_retry for a key with a
            // zero top byte; this fixture simply uses the key the client holds, so the self-tests never flake.
            const authKey = strip(fromBig(modPow(gB, hs.a, DH_PRIME), 256));
            if (authKey.length !== 256) log('255-byte key case');
            const id = sha1(authKey).readBigInt64LE(12);
            // first salt = new_nonce[0..8] XOR server_nonce[0..8], as the protocol says (mtcute uses it at once)
            const salt = xor(hs.newNonce.subarray(0, 8), hs.serverNonce.subarray(0, 8)).readBigInt64LE(0);
            keys.set(id, { key: authKey, salt, sessions: new Map(), received: new Map() });
            const aux = sha1(authKey).subarray(0, 8);
            const hash1 = sha1(hs.newNonce, Buffer.from([1]), aux).subarray(4, 20);
            log('new auth key', id);
            this.plainReply(new W().u32(0x3bcbf734).raw(hs.nonce).raw(hs.serverNonce).raw(hash1).done());
        } else {
            log('unknown plain ctor', ctor.toString(16));
        }
    }

    // ---------------- encrypted ----------------
    send(k, authKeyId, sid, messages) {
        // messages: [{ body, content }] -> one frame (container when several)
        const s = k.sessions.get(sid) || { seq: 0 };
        const mk = m => {
            const seqNo = m.content ? s.seq++ * 2 + 1 : s.seq * 2;
            return { id: serverMsgId(), seqNo, body: m.body };
        };
        let msg;
        const built = messages.map(mk);
        if (built.length === 1) msg = built[0];
        else {
            const w = new W().u32(0x73f1f8dc).i32(built.length);
            for (const m of built) w.i64(m.id).i32(m.seqNo).i32(m.body.length).raw(m.body);
            msg = { id: serverMsgId(), seqNo: s.seq * 2, body: w.done() };
        }
        const inner = new W().i64(k.salt).i64(sid).i64(msg.id).i32(msg.seqNo).i32(msg.body.length).raw(msg.body).done();
        let padLen = 12 + ((16 - ((inner.length + 12) % 16)) % 16);
        const plain = Buffer.concat([inner, crypto.randomBytes(padLen)]);
        const msgKey = sha256(k.key.subarray(96, 128), plain).subarray(8, 24);
        const { key, iv } = kdf(k.key, msgKey, 8);
        const idb = Buffer.alloc(8);
        idb.writeBigInt64LE(authKeyId);
        this.write(Buffer.concat([idb, msgKey, igeEncrypt(plain, key, iv)]));
    }
    onEncrypted(k, authKeyId, salt, sid, msgId, seq, body) {
        const out = [];
        let session = k.sessions.get(sid);
        if (!session) {
            session = { seq: 0, uniqueId: crypto.randomBytes(8).readBigInt64LE(0) };
            k.sessions.set(sid, session);
            out.push({ body: new W().u32(0x9ec20908).i64(msgId).i64(session.uniqueId).i64(k.salt).done(), content: true });
        }
        const t = Number(msgId >> 32n);
        if (t > nowSec() + 30 || t < nowSec() - 300) {
            out.push({ body: new W().u32(0xa7eff811).i64(msgId).i32(seq).i32(t > nowSec() ? 17 : 16).done(), content: false });
        } else if (salt !== k.salt) {
            out.push({ body: new W().u32(0xedab447b).i64(msgId).i32(seq).i32(48).i64(k.salt).done(), content: false });
        } else {
            const items = [];
            const ctor = body.readUInt32LE(0);
            if (ctor === 0x73f1f8dc) {
                const r = new R(body, 4);
                const n = r.i32();
                for (let i = 0; i < n; i++) {
                    const id = r.i64();
                    const sq = r.i32();
                    const l = r.i32();
                    items.push({ id, seq: sq, body: r.raw(l) });
                }
            } else items.push({ id: msgId, seq, body });
            for (const it of items) this.onMessage(k, authKeyId, sid, it, out);
        }
        if (out.length) this.send(k, authKeyId, sid, out);
        if (k.destroyed) keys.delete(authKeyId);
    }
    onMessage(k, authKeyId, sid, m, out) {
        let body = m.body;
        let ctor = body.readUInt32LE(0);
        k.received.set(m.id, 'received');
        const rpcResult = b => out.push({ body: Buffer.concat([new W().u32(0xf35c6d01).i64(m.id).done(), b]), content: true });
        const rpcError = (code, text) => rpcResult(new W().u32(0x2144ca19).i32(code).bytes(Buffer.from(text)).done());
        // unwrap
        for (;;) {
            const r = new R(body, 4);
            if (ctor === 0x3072cfa1) body = zlib.gunzipSync(r.bytes());
            else if (ctor === 0xda9b0d0d) body = body.subarray(8);
            else if (ctor === 0xbf9459b7) body = body.subarray(4);
            else if (ctor === 0xcb9f372d) body = body.subarray(12);
            else if (ctor === 0xc1cd5ea9) {
                const flags = r.u32();
                r.i32();
                for (let i = 0; i < 6; i++) r.bytes();
                if (flags & 1) {
                    r.u32();
                    r.bytes();
                    r.i32();
                }
                if (flags & 2) throw new Error('initConnection params (JSONValue) not supported by the fake server');
                body = body.subarray(r.pos);
            } else break;
            ctor = body.readUInt32LE(0);
        }
        const r = new R(body, 4);
        log('msg', ctor.toString(16), 'session', sid);
        switch (ctor) {
            case 0x62d6b459: // msgs_ack
                return;
            case 0x7abe77ec: // ping
                out.push({ body: new W().u32(0x347773c5).i64(m.id).i64(r.i64()).done(), content: false });
                return;
            case 0xf3427b8c: {
                // ping_delay_disconnect
                const pingId = r.i64();
                const delay = r.i32();
                clearTimeout(this.pdTimer);
                this.pdTimer = setTimeout(() => this.sock.destroy(), delay * 1000);
                out.push({ body: new W().u32(0x347773c5).i64(m.id).i64(pingId).done(), content: false });
                return;
            }
            case 0xb921bd04: {
                // get_future_salts
                const num = Math.min(64, Math.max(1, r.i32()));
                const w = new W().u32(0xae500895).i64(m.id).i32(nowSec()).i32(num);
                const start = nowSec() - 60;
                for (let i = 0; i < num; i++) w.i32(start + i * 1800).i32(start + (i + 1) * 1800 + 1800).i64(i === 0 ? k.salt : crypto.randomBytes(8).readBigInt64LE(0));
                out.push({ body: w.done(), content: false });
                return;
            }
            case 0xda69fb52: {
                // msgs_state_req
                const ids = r.longVector();
                const info = Buffer.from(
                    ids.map(id => {
                        const st = k.received.get(id);
                        if (st) return st === 'answered' ? 4 | 64 : 4;
                        const tt = Number(id >> 32n);
                        if (tt < nowSec() - 300) return 1;
                        if (tt > nowSec() + 30) return 3;
                        return 2;
                    }),
                );
                out.push({ body: new W().u32(0x04deb57d).i64(m.id).bytes(info).done(), content: false });
                return;
            }
            case 0xe7512126: {
                // destroy_session
                const target = r.i64();
                const existed = target !== sid && k.sessions.delete(target);
                const reply = new W().u32(existed ? 0xe22045fc : 0x62d350c9).i64(target).done();
                if (WRAP_DESTROY) rpcResult(reply);
                else out.push({ body: reply, content: false });
                return;
            }
            case 0xd1435160: {
                // destroy_auth_key
                const reply = new W().u32(0xf660e1d4).done();
                if (WRAP_DESTROY) rpcResult(reply);
                else out.push({ body: reply, content: false });
                k.destroyed = true;
                return;
            }
            case 0x58e4a740: // rpc_drop_answer
                rpcResult(new W().u32(0x5e2ad36e).done());
                return;
            case 0xc4f9186b: // help.getConfig
                k.received.set(m.id, 'answered');
                rpcResult(new W().u32(0x997275b5).done());
                return;
            default:
                k.received.set(m.id, 'answered');
                rpcError(400, 'METHOD_INVALID');
        }
    }
}

function tmpAes(hs) {
    const a = sha1(hs.newNonce, hs.serverNonce);
    const b = sha1(hs.serverNonce, hs.newNonce);
    const c = sha1(hs.newNonce, hs.newNonce);
    return { key: Buffer.concat([a, b.subarray(0, 12)]), iv: Buffer.concat([b.subarray(12, 20), c, hs.newNonce.subarray(0, 4)]) };
}
