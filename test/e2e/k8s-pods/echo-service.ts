/**
 * The gRPC service of the pod tests, defined without a .proto: one unary
 * method whose messages are JSON (grpc-js only needs (de)serializers), and
 * the server every pod app behind it runs.
 */
import * as grpc from '@grpc/grpc-js';

/** What the client sends. `fail` asks the server to answer with NOT_FOUND. */
export interface EchoRequest {
  readonly message: string;
  readonly fail?: boolean;
}

/** What the server answers: the message and the caller identity header it received. */
export interface EchoReply {
  readonly message: string;
  readonly callerId: string;
}

const encode = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const decode = <T>(b: Buffer): T => JSON.parse(b.toString('utf8')) as T;

/** `/demo.Echo/Echo`. */
export const echoService: grpc.ServiceDefinition = {
  echo: {
    path: '/demo.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: encode,
    requestDeserialize: (b: Buffer) => decode<EchoRequest>(b),
    responseSerialize: encode,
    responseDeserialize: (b: Buffer) => decode<EchoReply>(b),
    originalName: 'Echo',
  },
};

/**
 * Serves {@link echoService} over h2c on `address`: the reply carries the
 * message and the `x-client-spiffe-id` header the call arrived with, a
 * request with `fail` gets NOT_FOUND, and both carry the trailer
 * `x-trailer-check: kept` (what the tests check survives the mesh).
 */
export async function startEchoServer(address = '127.0.0.1:9090'): Promise<grpc.Server> {
  const server = new grpc.Server();
  server.addService(echoService, {
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
  await new Promise<void>((resolve, reject) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return server;
}
