/**
 * One-shot gRPC client run in the frontend pod as the app's uid: calls
 * `backend:9090` in plaintext (the pod's iptables rules send it through the
 * sidecar), once successfully and once with a request the server fails
 * with NOT_FOUND, and prints both outcomes as one JSON line.
 *
 *   node grpc-client.ts <target> <run tag>
 */
import * as grpc from '@grpc/grpc-js';
import { echoService, type EchoReply, type EchoRequest } from './echo-service.ts';

const target = process.argv[2] ?? 'backend:9090';
const Client = grpc.makeGenericClientConstructor(echoService, 'Echo');
// No service-config TXT lookup: the pod has no DNS server, only /etc/hosts.
const client = new Client(target, grpc.credentials.createInsecure(), { 'grpc.service_config_disable_resolution': 1 });

interface Outcome {
  code: number;
  details: string;
  reply: EchoReply | null;
  trailers: Record<string, unknown>;
}

function call(req: EchoRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { code: -1, details: '', reply: null, trailers: {} };
    const c = (client as unknown as Record<string, Function>)['echo']!.call(
      client,
      req,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err: grpc.ServiceError | null, reply: EchoReply | undefined) => {
        if (err) {
          out.code = err.code;
          out.details = err.details;
        } else {
          out.reply = reply ?? null;
        }
      },
    ) as grpc.ClientUnaryCall;
    c.on('status', (s: grpc.StatusObject) => {
      out.code = s.code;
      out.details = s.details;
      out.trailers = s.metadata.getMap();
      // The callback may run after 'status'; give it a tick.
      setImmediate(() => resolve(out));
    });
  });
}

const ok = await call({ message: 'hello through the mesh' });
const fail = await call({ message: 'missing-item', fail: true });
process.stdout.write(`${JSON.stringify({ ok, fail })}\n`);
client.close();
