/**
 * The backend pod's app: an HTTP server on 127.0.0.1:8080 that answers
 * every request with the request's method, target and headers as JSON,
 * and a gRPC server (grpc-js, h2c) on 127.0.0.1:9090. Prints "ready" once
 * both listen. Run inside the backend namespace as the app's uid.
 *
 *   node backend-app.ts <run tag>   (the tag only marks the process for leak checks)
 */
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { echoService, type EchoReply, type EchoRequest } from './echo-service.ts';

const web = http.createServer((req, res) => {
  const body = JSON.stringify({ app: 'backend', method: req.method, url: req.url, headers: req.headers });
  res.writeHead(200, { 'content-type': 'application/json', 'x-backend': 'yes' });
  res.end(body);
});

const rpc = new grpc.Server();
rpc.addService(echoService, {
  echo(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
    const trailer = new grpc.Metadata();
    trailer.set('x-trailer-check', 'kept');
    const callerId = String(call.metadata.get('x-client-spiffe-id')[0] ?? '');
    if (call.request.fail) {
      callback({ code: grpc.status.NOT_FOUND, details: `no such thing: ${call.request.message}`, metadata: trailer });
      return;
    }
    callback(null, { message: call.request.message, callerId }, trailer);
  },
});

web.listen(8080, '127.0.0.1', () => {
  rpc.bindAsync('127.0.0.1:9090', grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) {
      process.stderr.write(`grpc bind: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write('ready\n');
  });
});

process.on('SIGTERM', () => {
  web.close();
  rpc.forceShutdown();
  process.exit(0);
});
