/**
 * The TLS servers outside the cluster for the egress rows: one HTTPS server
 * per `name=ip` argument on `<ip>:443`, each with its own certificate
 * (`<dir>/<name>.crt`, `.key`, made by the test with openssl), answering
 * every request with `{"server": name, "sni": <the SNI it received>}`.
 * Prints "ready" once every server listens. Run in the outside namespace.
 *
 *   node egress-server.ts <dir> allowed.test=198.51.100.10 denied.test=198.51.100.11
 */
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

const [dir, ...pairs] = process.argv.slice(2);
if (dir === undefined || pairs.length === 0) throw new Error('usage: egress-server.ts <dir> name=ip ...');

await Promise.all(
  pairs.map((pair) => {
    const [name, ip] = pair.split('=') as [string, string];
    const server = https.createServer({ cert: readFileSync(join(dir, `${name}.crt`)), key: readFileSync(join(dir, `${name}.key`)) }, (req, res) => {
      const sni = (req.socket as TLSSocket).servername;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ server: name, sni: typeof sni === 'string' ? sni : null }));
    });
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(443, ip, resolve);
    });
  }),
);
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
