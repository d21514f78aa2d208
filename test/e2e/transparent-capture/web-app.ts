/**
 * The multi-port pod's app: HTTP on 127.0.0.1:8080 and 127.0.0.1:8081 and a
 * gRPC server (grpc-js, h2c) on 127.0.0.1:9090, as one process with three
 * ports, the way a real service exposes an API, an admin API and gRPC. Every
 * HTTP answer names the port that served it and echoes the request's
 * headers; the gRPC echo (the k8s-pods service) returns the caller identity
 * header. Prints "ready" once all three listen. Run in the pod's namespace
 * as the app's uid.
 *
 *   node web-app.ts <run tag>   (the tag only marks the process for leak checks)
 */
import http from 'node:http';
import { startEchoServer } from '../k8s-pods/echo-service.ts';

const HTTP_PORTS = [8080, 8081];

function listenHttp(port: number): Promise<void> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ app: 'web', port, method: req.method, url: req.url, headers: req.headers }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
}

await Promise.all(HTTP_PORTS.map(listenHttp));
const rpc = await startEchoServer();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  rpc.forceShutdown();
  process.exit(0);
});
