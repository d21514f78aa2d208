/**
 * The gRPC service of the pod test, defined without a .proto: one unary
 * method whose messages are JSON. grpc-js only needs (de)serializers.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';

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
export const echoService: ServiceDefinition = {
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
