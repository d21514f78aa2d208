/**
 * One real gRPC unary call with grpc-js through an h2c entry, before the
 * gRPC rows are measured: h2load does not read grpc-status, so this proves
 * the path carries a well-formed gRPC exchange (message and trailers).
 */
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { GRPC_PATH } from './bench-context.ts';

/** Calls the benchmark method at `baseUrl` (http://host:port); resolves with the reply, rejects with the gRPC error. */
export function grpcUnaryCheck(baseUrl: string, timeoutMs = 5_000): Promise<Buffer> {
  const client = new Client(new URL(baseUrl).host, credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest<Buffer, Buffer>(
      GRPC_PATH,
      (b) => b,
      (b) => b,
      // protobuf field 1 (string) "ping"
      Buffer.from([0x0a, 4, ...Buffer.from('ping')]),
      { deadline: Date.now() + timeoutMs },
      (err: ServiceError | null, reply?: Buffer) => (err ? reject(err) : resolve(reply ?? Buffer.alloc(0))),
    );
  }).finally(() => client.close());
}
