'use strict';
// Shared plumbing for the client drivers (gramjs.cjs, mtcute.mjs): argument parsing, the one-line JSON result,
// the overall deadline, the RSA fingerprint, auth key ids, and tracing. No client library is loaded here.
//
// Contract with the C# runner (tests/Interop.Tests/Clients/NodeClient.cs):
//   stdout: exactly ONE line, a JSON object {"ok":true|false, ...}; nothing else is ever written to stdout
//           (console.* is redirected to stderr before any client library is loaded).
//   exit code: 0 ok, 1 scenario failed, 2 overall timeout, 3 usage error.
//   stderr: free-form diagnostics (client logs with --verbose, unhandled rejections, teardown problems).

const crypto = require('node:crypto');
const fs = require('node:fs');

// ---- console -> stderr (client libraries must never pollute the result line) ----
const realStdoutWrite = process.stdout.write.bind(process.stdout);
for (const name of ['log', 'info', 'warn', 'debug', 'error', 'trace']) {
    // eslint-disable-next-line no-console
    console[name] = (...args) => {
        process.stderr.write(args.map(a => (typeof a === 'string' ? a : safeInspect(a))).join(' ') + '\n');
    };
}
function safeInspect(a) {
    try {
        return require('node:util').inspect(a, { depth: 3, breakLength: 160 });
    } catch {
        return String(a);
    }
}

const EXIT = { ok: 0, failed: 1, timeout: 2, usage: 3 };

class UsageError extends Error {}
class ScenarioError extends Error {
    constructor(message, details) {
        super(message);
        this.details = details;
    }
}

// ---- arguments: --name value | --name=value | --flag ; env fallback MTI_<NAME> (dashes -> underscores) ----
function parseArgs(argv, spec) {
    const out = {};
    const known = new Map(Object.entries(spec));
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}'`);
        let name = a.slice(2);
        let value;
        const eq = name.indexOf('=');
        if (eq >= 0) {
            value = name.slice(eq + 1);
            name = name.slice(0, eq);
        }
        const def = known.get(name);
        if (!def) throw new UsageError(`unknown option --${name}`);
        if (def.flag) {
            out[name] = value === undefined ? true : value !== 'false' && value !== '0';
        } else {
            if (value === undefined) {
                if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
                value = argv[++i];
            }
            out[name] = value;
        }
    }
    for (const [name, def] of known) {
        if (out[name] === undefined) {
            const env = process.env['MTI_' + name.toUpperCase().replace(/-/g, '_')];
            if (env !== undefined && env !== '') out[name] = def.flag ? env !== 'false' && env !== '0' : env;
        }
        if (out[name] === undefined && def.default !== undefined) out[name] = def.default;
        if (out[name] === undefined && def.required) throw new UsageError(`missing --${name}`);
        if (out[name] !== undefined && def.choices && !def.choices.includes(out[name])) {
            throw new UsageError(`--${name} must be one of ${def.choices.join(' | ')}, got '${out[name]}'`);
        }
        if (out[name] !== undefined && def.int) {
            const n = Number(out[name]);
            if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got '${out[name]}'`);
            if (def.min !== undefined && n < def.min) throw new UsageError(`--${name} must be >= ${def.min}`);
            if (def.max !== undefined && n > def.max) throw new UsageError(`--${name} must be <= ${def.max}`);
            out[name] = n;
        }
    }
    return out;
}

// Options both drivers understand.
const COMMON_SPEC = {
    host: { default: '127.0.0.1' },
    port: { required: true, int: true, min: 1, max: 65535 },
    dc: { default: '2', int: true, min: 1, max: 1000 },
    scenario: { required: true },
    'rsa-key': {}, // PKCS#1 PEM file ("-----BEGIN RSA PUBLIC KEY-----"); needed unless --auth-key is given
    'auth-key': {}, // pre-shared auth key: 512 hex digits (256 bytes)
    'auth-key-file': {}, // or a file holding those hex digits
    timeout: { default: '20000', int: true, min: 100, max: 600000 }, // overall deadline, ms
    method: { default: '0x1badf00d' }, // constructor id used as "unknown method"
    'target-session': {}, // destroy-session: signed decimal session id to destroy
    skew: { default: '600', int: true, min: -100000, max: 100000 }, // clock-skew: seconds added to the client clock
    'print-auth-key': { flag: true }, // include the auth key (hex) in the result: test keys only
    verbose: { flag: true }, // client library logging to stderr
};

function loopbackOnly(host) {
    // The harness talks to servers on this machine only.
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) && host !== '::1' && host !== 'localhost') {
        throw new UsageError(`--host must be a loopback address, got '${host}'`);
    }
}

function readAuthKey(opts) {
    let hex = opts['auth-key'];
    if (!hex && opts['auth-key-file']) hex = fs.readFileSync(opts['auth-key-file'], 'utf8');
    if (!hex) return null;
    hex = hex.trim().toLowerCase();
    if (!/^[0-9a-f]{512}$/.test(hex)) throw new UsageError('--auth-key must be exactly 512 hex digits (256 bytes)');
    return Buffer.from(hex, 'hex');
}

function parseConstructorId(s) {
    const n = s.startsWith('0x') || s.startsWith('0X') ? Number.parseInt(s.slice(2), 16) : Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`bad constructor id '${s}'`);
    return n >>> 0;
}

// ---- RSA: fingerprint = int64 LE of sha1(TL bytes(n) + TL bytes(e))[12..20] ----
function tlBytes(buf) {
    const parts = [];
    if (buf.length < 254) {
        parts.push(Buffer.from([buf.length]));
    } else {
        parts.push(Buffer.from([254, buf.length & 0xff, (buf.length >> 8) & 0xff, (buf.length >> 16) & 0xff]));
    }
    parts.push(buf);
    const total = parts.reduce((s, p) => s + p.length, 0);
    const pad = (4 - (total % 4)) % 4;
    parts.push(Buffer.alloc(pad));
    return Buffer.concat(parts);
}

function stripLeadingZeros(buf) {
    let i = 0;
    while (i < buf.length - 1 && buf[i] === 0) i++;
    return buf.subarray(i);
}

function loadRsaPublicKey(path) {
    const pem = fs.readFileSync(path, 'utf8');
    if (!pem.includes('-----BEGIN RSA PUBLIC KEY-----')) {
        throw new UsageError(`${path}: expected a PKCS#1 PEM ("-----BEGIN RSA PUBLIC KEY-----")`);
    }
    const key = crypto.createPublicKey({ key: pem, format: 'pem', type: 'pkcs1' });
    const jwk = key.export({ format: 'jwk' });
    const n = stripLeadingZeros(Buffer.from(jwk.n, 'base64url'));
    const e = stripLeadingZeros(Buffer.from(jwk.e, 'base64url'));
    const sha = crypto.createHash('sha1').update(Buffer.concat([tlBytes(n), tlBytes(e)])).digest();
    const fpBytes = sha.subarray(12, 20); // little-endian int64
    const fingerprint = fpBytes.readBigInt64LE(0);
    return {
        pem,
        n,
        e,
        fingerprint, // BigInt, signed
        fingerprintHex: fpBytes.readBigUInt64LE(0).toString(16).padStart(16, '0'), // unsigned, as mtcute indexes it
        fingerprintTopByte: fpBytes[7],
    };
}

// ---- auth key ids, as the server sees them on the wire ----
function authKeyInfo(key) {
    if (!key) return { authKeyId: null, authKeyLength: 0 };
    const b = Buffer.from(key);
    const sha = crypto.createHash('sha1').update(b).digest();
    return {
        authKeyId: sha.readBigInt64LE(12).toString(), // signed decimal of the int64 LE at sha1[12..20]
        authKeyLength: b.length, // 255 means the client stripped a leading zero byte (real-clients.md §5.1)
    };
}

// ---- time / deadline ----
const t0 = Date.now();
const elapsed = () => Date.now() - t0;

function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new ScenarioError(`timed out after ${ms} ms: ${what}`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

// Poll a condition (bounded).
async function waitFor(cond, ms, what, every = 20) {
    const end = Date.now() + ms;
    for (;;) {
        const v = cond();
        if (v) return v;
        if (Date.now() >= end) throw new ScenarioError(`timed out after ${ms} ms waiting for ${what}`);
        await sleep(every);
    }
}

// ---- JSON: BigInt / Long / Buffer safe ----
function jsonReplacer(_k, v) {
    if (typeof v === 'bigint') return v.toString();
    if (v && typeof v === 'object') {
        if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('hex');
        // big-integer (GramJS) and long.js (mtcute) values
        if (typeof v.isSmall === 'boolean' && typeof v.toString === 'function' && 'value' in v) return v.toString();
        if (typeof v.high === 'number' && typeof v.low === 'number' && typeof v.unsigned === 'boolean') return v.toString();
    }
    return v;
}

// ---- run harness: one result line, bounded teardown, forced exit ----
function createRun(clientName, version) {
    const steps = [];
    const warnings = [];
    const trace = { in: [], out: [] };
    const TRACE_MAX = 500;
    let finished = false;
    let teardown = async () => {};
    let current = 'start';

    process.on('unhandledRejection', err => {
        const msg = `unhandled rejection: ${err && err.stack ? err.stack : err}`;
        process.stderr.write(msg + '\n');
        if (warnings.length < 50) warnings.push(String(err && err.message ? err.message : err));
    });
    process.on('uncaughtException', err => {
        process.stderr.write(`uncaught exception: ${err && err.stack ? err.stack : err}\n`);
        void finish({ ok: false, error: `uncaught exception in step '${current}': ${err && err.message ? err.message : err}` }, EXIT.failed);
    });

    const run = {
        steps,
        warnings,
        trace,
        result: {},
        step(name, extra) {
            current = name;
            const s = { name, ms: elapsed(), ...(extra || {}) };
            steps.push(s);
            return s;
        },
        traceIn(entry) {
            if (trace.in.length < TRACE_MAX) trace.in.push({ ms: elapsed(), ...entry });
        },
        traceOut(entry) {
            if (trace.out.length < TRACE_MAX) trace.out.push({ ms: elapsed(), ...entry });
        },
        setTeardown(fn) {
            teardown = fn;
        },
        get currentStep() {
            return current;
        },
        finish,
    };

    async function finish(payload, code) {
        if (finished) return;
        finished = true;
        clearTimeout(deadlineTimer);
        try {
            await withTimeout(Promise.resolve().then(() => teardown()), 3000, 'client teardown');
        } catch (e) {
            warnings.push(`teardown: ${e && e.message ? e.message : e}`);
            process.stderr.write(`teardown problem: ${e && e.stack ? e.stack : e}\n`);
        }
        const line = JSON.stringify(
            { ...payload, client: clientName, clientVersion: version, elapsedMs: elapsed(), steps, result: run.result, trace, warnings },
            jsonReplacer,
        );
        realStdoutWrite(line + '\n', () => process.exit(code));
        // If the write callback never comes (closed pipe), still exit.
        setTimeout(() => process.exit(code), 1000).unref();
    }

    let deadlineTimer;
    run.startDeadline = ms => {
        deadlineTimer = setTimeout(() => {
            void finish({ ok: false, error: `overall timeout after ${ms} ms in step '${current}'`, timedOut: true }, EXIT.timeout);
        }, ms);
    };

    // Runs the scenario body and reports. body(run) returns extra top-level fields for the result line.
    run.main = async body => {
        try {
            const extra = await body(run);
            await finish({ ok: true, ...(extra || {}) }, EXIT.ok);
        } catch (e) {
            const usage = e instanceof UsageError;
            if (!usage) process.stderr.write(`scenario failed: ${e && e.stack ? e.stack : e}\n`);
            await finish(
                {
                    ok: false,
                    error: `${usage ? 'usage: ' : ''}${e && e.message ? e.message : String(e)}`,
                    failedStep: current,
                    ...(e && e.details ? { details: e.details } : {}),
                },
                usage ? EXIT.usage : EXIT.failed,
            );
        }
    };
    return run;
}

function randomInt64() {
    return crypto.randomBytes(8).readBigInt64LE(0);
}

module.exports = {
    COMMON_SPEC,
    EXIT,
    UsageError,
    ScenarioError,
    parseArgs,
    loopbackOnly,
    readAuthKey,
    parseConstructorId,
    loadRsaPublicKey,
    authKeyInfo,
    withTimeout,
    waitFor,
    sleep,
    elapsed,
    createRun,
    randomInt64,
    jsonReplacer,
};
