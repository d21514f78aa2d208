/**
 * The backend pod's app: an HTTP server on 127.0.0.1:8080 that answers
 * every request with the request's method, target and headers as JSON,
 * and the gRPC echo server (grpc-js, h2c) on 127.0.0.1:9090. Prints "ready"
 * once both listen. Run inside the backend namespace as the app's uid.
 *
 *   node backend-app.ts <run tag>   (the tag only marks the process for leak checks)
 */
import http from 'node:http';
import { startEchoServer } from './echo-service.ts';

const web = http.createServer((req, res) => {
  const body = JSON.stringify({ app: 'backend', method: req.method, url: req.url, headers: req.headers });
  res.writeHead(200, { 'content-type': 'application/json', 'x-backend': 'yes' });
  res.end(body);
});
await new Promise<void>((resolve, reject) => {
  web.once('error', reject);
  web.listen(8080, '127.0.0.1', resolve);
});
const rpc = await startEchoServer();
process.stdout.write('ready\n');

process.on('SIGTERM', () => {
  web.close();
  rpc.forceShutdown();
  process.exit(0);
});
