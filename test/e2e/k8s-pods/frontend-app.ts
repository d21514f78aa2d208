/**
 * The frontend pod's app: an HTTP server on 127.0.0.1:8080 that, for every
 * request, calls `http://backend:8080<same path>` with Node's plain HTTP
 * client (no TLS, no proxy settings: the pod's iptables rules send it
 * through the sidecar) and answers with what it got, as JSON. Prints
 * "ready" once listening.
 *
 *   node frontend-app.ts <run tag>
 */
import http from 'node:http';

const server = http.createServer((req, res) => {
  const upstream = http.get(`http://backend:8080${req.url ?? '/'}`, { agent: false, timeout: 10_000 }, (r) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    r.on('error', (err) => {
      res.writeHead(502);
      res.end(JSON.stringify({ error: err.message }));
    });
  });
  upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
  upstream.on('error', (err) => {
    if (res.headersSent) return;
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: err.message }));
  });
});

server.listen(8080, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
