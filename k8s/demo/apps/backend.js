// Demo backend: answers with the caller's SPIFFE ID, which only the sidecar
// can set (it strips any copy a caller sends). Listens on loopback only: the
// sole way in is through the sidecar's mTLS listener.
const http = require('node:http');

http
  .createServer((req, res) => {
    if (req.url === '/healthz') {
      res.end('ok\n');
      return;
    }
    const caller = req.headers['x-client-spiffe-id'] ?? 'none';
    console.log(JSON.stringify({ at: new Date().toISOString(), method: req.method, path: req.url, caller }));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ service: 'backend', caller }) + '\n');
  })
  .listen(8080, '127.0.0.1');
