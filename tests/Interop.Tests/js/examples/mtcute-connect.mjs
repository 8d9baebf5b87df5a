// mtcute (@mtcute/node 0.30.3, every @mtcute/* package at 0.30.3: see ../package.json) against MtActors:
// a new auth key, then help.getConfig.
//   node mtcute-connect.mjs 127.0.0.1 5222 server.pem
import { readFileSync } from 'node:fs';
import { BaseTelegramClient, MemoryStorage } from '@mtcute/node';
import { addPublicKey } from '@mtcute/node/utils.js';

const [host, port, pemFile] = process.argv.slice(2);
const dc = { id: 2, ipAddress: host, port: Number(port) }; // DC id: MtActors:MtProto:DcId (default 2)
const tg = new BaseTelegramClient({
    apiId: 1,
    apiHash: 'any-api-hash',
    storage: new MemoryStorage(),
    defaultDcs: { main: dc, media: { ...dc, mediaOnly: true } },
    disableUpdates: true,
    logLevel: 1, // errors only
});
addPublicKey(tg.crypto, readFileSync(pemFile, 'utf8')); // mtcute knows only Telegram's RSA keys

try {
    await tg.connect(); // starts the key exchange in the background
    const config = await tg.call({ _: 'help.getConfig' }, { abortSignal: AbortSignal.timeout(20000) });
    console.log('help.getConfig:', config);
} finally {
    await tg.destroy();
}
