// Demo frontend: calls the backend in plain HTTP every 5 s; the pod's
// iptables rules send the call to the sidecar, which opens mTLS to the
// backend's sidecar. GET / shows the last answer.
const http = require('node:http');

const BACKEND = 'http://backend.demo.svc.cluster.local:8080/';
let last = { status: 'no call yet' };

function call() {
  const req = http.get(BACKEND, { timeout: 3000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    res.on('end', () => {
      last = { at: new Date().toISOString(), status: res.statusCode, body: body.trim() };
      console.log(JSON.stringify(last));
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (err) => {
    last = { at: new Date().toISOString(), error: err.message };
    console.log(JSON.stringify(last));
  });
}

setInterval(call, 5000);
call();

http
  .createServer((req, res) => {
    if (req.url === '/healthz') {
      res.end('ok\n');
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(last) + '\n');
  })
  .listen(8080, '127.0.0.1');
