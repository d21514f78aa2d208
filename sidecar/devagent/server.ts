import { lstat, mkdir, mkdtemp, chmod, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type Metadata,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { describeError, silentLogger, type Logger } from '../core/index.ts';
import {
  SECURITY_HEADER,
  loadWorkloadApiProto,
  type JwtSvidRequestMessage,
  type JwtSvidResponseMessage,
  type ValidateJwtSvidRequestMessage,
  type ValidateJwtSvidResponseMessage,
  type X509SvidResponseMessage,
} from '../workload/index.ts';

/** A gRPC status a backend answers with instead of a response. */
export class RpcStatusError extends Error {
  readonly grpcCode: number;

  constructor(grpcCode: number, details: string) {
    super(details);
    this.name = 'RpcStatusError';
    this.grpcCode = grpcCode;
  }
}

/**
 * What one workload's socket serves. Getters return the full current state
 * or throw RpcStatusError (PermissionDenied when no identity is issued).
 */
export interface WorkloadApiBackend {
  x509SvidResponse(): X509SvidResponseMessage;
  /** Trust-domain ID → concatenated DER. */
  x509Bundles(): Record<string, Buffer>;
  /** Trust-domain ID → JWKS bytes. */
  jwtBundles(): Record<string, Buffer>;
  fetchJwtSvids(req: JwtSvidRequestMessage): Promise<JwtSvidResponseMessage>;
  validateJwtSvid(req: ValidateJwtSvidRequestMessage): Promise<ValidateJwtSvidResponseMessage>;
  /** Calls `fn` after every change of identity or bundles; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void;
}

/** Options of {@link WorkloadApiServer.listen}. */
export interface WorkloadApiServerOptions {
  /** Absolute path of the Unix socket; its parent directory is created. */
  readonly socketPath: string;
  /** File mode of the socket (default 0o600: only this user can get the identity). */
  readonly mode?: number;
  readonly backend: WorkloadApiBackend;
  readonly logger?: Logger;
}

/** Longest Unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

type Status = { code: number; details: string };

function securityHeaderOk(md: Metadata): boolean {
  // Endpoint spec §3 / SPIRE middleware: exactly one value, exactly "true".
  const values = md.get(SECURITY_HEADER);
  return values.length === 1 && values[0] === 'true';
}

const MISSING_HEADER: Status = { code: GrpcStatus.INVALID_ARGUMENT, details: 'security header missing from request' };

function toStatus(err: unknown): Status {
  if (err instanceof RpcStatusError) return { code: err.grpcCode, details: err.message };
  return { code: GrpcStatus.INTERNAL, details: describeError(err) };
}

/** A canonical form of a bundle map, so unchanged messages can be skipped. */
function bundleMapKey(map: Record<string, Buffer>): string {
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${map[k]!.toString('base64')}`)
    .join(';');
}

/**
 * A SpiffeWorkloadAPI gRPC server on one Unix socket, behaving like SPIRE's
 * agent endpoint (SPIFFE_Workload_Endpoint.md §3 and §6, SPIFFE_Workload_API.md
 * §4.3; SPIRE pkg/agent/endpoints/middleware.go and workload/handler.go):
 * security header check before anything else, first stream message right
 * away and a new one on every change, bundle streams skip unchanged
 * messages, WIT RPCs Unimplemented.
 *
 * Node cannot read a Unix socket's peer credentials, so there is no workload
 * attestation: whoever can open the socket gets its identity. The socket's
 * file mode is therefore the access control.
 */
export class WorkloadApiServer {
  /** The socket path served. */
  readonly socketPath: string;
  readonly #server: Server;
  readonly #logger: Logger;
  #inode: number | undefined;
  #stopped = false;

  private constructor(socketPath: string, server: Server, logger: Logger) {
    this.socketPath = socketPath;
    this.#server = server;
    this.#logger = logger;
  }

  /** Binds the socket, sets its mode and starts serving. */
  static async listen(opts: WorkloadApiServerOptions): Promise<WorkloadApiServer> {
    const logger = (opts.logger ?? silentLogger).child({ component: 'workload-api-server', socket: opts.socketPath });
    const server = new Server();
    server.addService(loadWorkloadApiProto().service, handlers(opts.backend));
    const self = new WorkloadApiServer(opts.socketPath, server, logger);
    try {
      await self.#bind(opts.mode ?? 0o600);
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
    return self;
  }

  async #bind(mode: number): Promise<void> {
    const target = this.socketPath;
    const parent = dirname(target);
    await mkdir(parent, { recursive: true, mode: 0o755 });
    await refuseNonSocket(target);
    // Bind inside a private (0700) directory, set the mode, then rename into
    // place: the socket never exists at its public path with the umask's
    // looser mode, so no other local user can connect in between.
    const staging = await mkdtemp(join(parent, '.wl-'));
    const staged = join(staging, 's');
    const direct = Buffer.byteLength(staged) > MAX_SOCKET_PATH_BYTES;
    const bindPath = direct ? target : staged;
    try {
      if (direct) await removeStaleSocket(target);
      await new Promise<void>((resolve, reject) => {
        this.#server.bindAsync(`unix://${bindPath}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
      });
      await chmod(bindPath, mode);
      // rename() atomically replaces a stale socket left by a killed agent.
      if (!direct) await rename(staged, target);
    } finally {
      await rmdir(staging).catch(() => {});
    }
    this.#inode = (await lstat(target)).ino;
  }

  /**
   * Cancels every open call, stops listening and removes the socket file
   * (only if it is still ours, not one a newer agent put there).
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#server.forceShutdown();
    try {
      const st = await lstat(this.socketPath);
      if (st.isSocket() && st.ino === this.#inode) await unlink(this.socketPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#logger.warn({ err: describeError(err) }, 'could not remove socket file');
    }
  }
}

async function refuseNonSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) throw new Error(`devagent: ${path} exists and is not a socket; refusing to replace it`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

function handlers(backend: WorkloadApiBackend): UntypedServiceImplementation {
  const stream =
    <M>(produce: () => M, skipUnchanged?: (m: M) => string) =>
    (call: ServerWritableStream<unknown, M>): void => {
      if (!securityHeaderOk(call.metadata)) {
        call.emit('error', MISSING_HEADER);
        return;
      }
      let done = false;
      let last: string | undefined;
      let unsubscribe = (): void => {};
      const finish = (status?: Status): void => {
        if (done) return;
        done = true;
        unsubscribe();
        if (status) call.emit('error', status);
      };
      const push = (): void => {
        if (done || call.cancelled) return;
        let msg: M;
        try {
          msg = produce();
        } catch (err) {
          // SPIRE ends an open stream with PermissionDenied once the caller's
          // last entry is gone (sendX509SVIDResponse in SPIRE
          // pkg/agent/endpoints/workload/handler.go).
          finish(toStatus(err));
          return;
        }
        if (skipUnchanged) {
          const key = skipUnchanged(msg);
          if (key === last) return;
          last = key;
        }
        call.write(msg);
      };
      call.on('cancelled', () => finish());
      call.on('close', () => finish());
      unsubscribe = backend.subscribe(push);
      push();
    };

  const unary =
    <Req, Res>(run: (req: Req) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      if (!securityHeaderOk(call.metadata)) {
        callback(MISSING_HEADER, null);
        return;
      }
      run(call.request).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toStatus(err), null),
      );
    };

  const unimplemented =
    (details: string) =>
    (call: ServerWritableStream<unknown, unknown>): void => {
      call.emit('error', securityHeaderOk(call.metadata) ? { code: GrpcStatus.UNIMPLEMENTED, details } : MISSING_HEADER);
    };

  return {
    FetchX509SVID: stream(() => backend.x509SvidResponse()),
    FetchX509Bundles: stream(
      () => ({ crl: [], bundles: backend.x509Bundles() }),
      (m) => bundleMapKey(m.bundles),
    ),
    FetchJWTBundles: stream(
      () => ({ bundles: backend.jwtBundles() }),
      (m) => bundleMapKey(m.bundles),
    ),
    FetchJWTSVID: unary((req: JwtSvidRequestMessage) => backend.fetchJwtSvids(req)),
    ValidateJWTSVID: unary((req: ValidateJwtSvidRequestMessage) => backend.validateJwtSvid(req)),
    FetchWITSVID: unimplemented('fetching WIT-SVIDs is not implemented'),
    FetchWITBundles: unimplemented('fetching WIT bundles is not implemented'),
  };
}
