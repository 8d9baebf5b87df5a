// GramJS (npm install telegram@2.26.22 big-integer) against MtActors: a new auth key, initConnection, a ping.
//   node gramjs-connect.cjs 127.0.0.1 5222 server.pem
const { createHash, createPublicKey } = require('node:crypto');
const { readFileSync } = require('node:fs');
const bigInt = require('big-integer');
const { Api, TelegramClient } = require('telegram');
const { MemorySession } = require('telegram/sessions');
const { PromisedNetSockets } = require('telegram/extensions');
const { Logger, LogLevel } = require('telegram/extensions/Logger');
const RSA = require('telegram/crypto/RSA');

const [host, port, pemFile] = process.argv.slice(2);

// GramJS knows only Telegram's RSA keys: add the server's under its fingerprint
// (int64 LE of sha1(TL bytes(n) + TL bytes(e))[12..20], as a signed decimal string).
const { n, e } = createPublicKey(readFileSync(pemFile, 'utf8')).export({ format: 'jwk' });
const tlBytes = b64 => {
    const b = Buffer.from(b64, 'base64url');
    const head = b.length < 254 ? [b.length] : [254, b.length & 255, (b.length >> 8) & 255, b.length >> 16];
    const raw = Buffer.concat([Buffer.from(head), b]);
    return Buffer.concat([raw, Buffer.alloc((4 - (raw.length % 4)) % 4)]);
};
const fingerprint = createHash('sha1').update(Buffer.concat([tlBytes(n), tlBytes(e)])).digest().readBigInt64LE(12);
const hex = b64 => Buffer.from(b64, 'base64url').toString('hex');
RSA._serverKeys.set(fingerprint.toString(), { n: bigInt(hex(n), 16), e: parseInt(hex(e), 16) });

// TelegramClient dials port 80 whatever the session says: pin the port in the socket.
class PinnedSocket extends PromisedNetSockets {
    connect(_port, ip) {
        return super.connect(Number(port), ip);
    }
}

(async () => {
    const session = new MemorySession();
    session.setDC(2, host, Number(port)); // DC id: MtActors:MtProto:DcId (default 2)
    const client = new TelegramClient(session, 1, 'any-api-hash', {
        networkSocket: PinnedSocket,
        connectionRetries: 3,
        baseLogger: new Logger(LogLevel.ERROR),
    });
    if (!(await client.connect())) throw new Error(`cannot connect to ${host}:${port}`);
    const pong = await client.invoke(new Api.Ping({ pingId: bigInt(42) }));
    console.log(`pong ${pong.pingId}`);
    await client.destroy();
})().catch(err => {
    console.error(err);
    process.exit(1);
});
