/**
 * One app of the bank chain, run inside its pod as the app's uid on
 * 127.0.0.1:8080. Every request it receives is printed as a `SEEN {json}`
 * line (method, path and the headers the test inspects), so the test reads
 * from the log exactly which credentials reached the app.
 *
 *   node bank-app.ts edge|accounts|payments <run dir>   (the dir only marks the process)
 *
 * edge:     GET /accounts/<who>[/profile] → the same path at http://accounts:8080
 * accounts: GET /accounts/<who>           → GET http://payments:8080/payments/<who>
 *           GET /accounts/<who>/profile   → answered here, no downstream call
 * payments: GET /payments/<who>           → a list of payments
 *
 * A hop passes on the `Authorization` it received, as an app propagating
 * the user's token would; its sidecar decides what crosses the network.
 */
import http from 'node:http';

const role = process.argv[2];
if (role !== 'edge' && role !== 'accounts' && role !== 'payments') {
  process.stderr.write('usage: bank-app.ts edge|accounts|payments <dir>\n');
  process.exit(2);
}

const RECORDED = ['authorization', 'x-auth-subject', 'x-auth-scopes', 'x-auth-client-id', 'x-auth-claims', 'x-client-spiffe-id'];

/** GET http://<host>:8080<path> with `authorization`; resolves status and body, never rejects. */
function callNext(host: string, path: string, authorization: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host, port: 8080, path, method: 'GET', headers: authorization === undefined ? {} : { authorization }, timeout: 8_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err) => resolve({ status: 0, body: String(err) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: String(err) }));
    req.end();
  });
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  const headers: Record<string, string> = {};
  for (const h of RECORDED) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  process.stdout.write(`SEEN ${JSON.stringify({ app: role, method: req.method, url, headers })}\n`);
  const reply = (status: number, value: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
  const m = /^\/(accounts|payments)\/([a-z]+)(\/profile)?$/.exec(url);
  if (req.method !== 'GET' || !m) return reply(404, { error: 'no such route' });
  const [, kind, who, profile] = m;
  const auth = req.headers.authorization;
  if (role === 'edge' && kind === 'accounts') {
    void callNext('accounts', url, auth).then((r) => reply(r.status === 0 ? 502 : r.status, { hop: 'edge', downstream: r.body }));
    return;
  }
  if (role === 'accounts' && kind === 'accounts') {
    if (profile !== undefined) return reply(200, { hop: 'accounts', account: who, profile: true });
    void callNext('payments', `/payments/${who}`, auth).then((r) => reply(r.status === 0 ? 502 : r.status, { hop: 'accounts', account: who, downstream: r.body }));
    return;
  }
  if (role === 'payments' && kind === 'payments') return reply(200, { hop: 'payments', account: who, payments: [{ id: 1, amount: 42 }] });
  reply(404, { error: 'no such route' });
});

server.listen(8080, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
