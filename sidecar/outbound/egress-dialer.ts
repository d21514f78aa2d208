import net, { type LookupFunction } from 'node:net';
import { formatAddress, type Address } from '../core/index.ts';
import { ForwardError, type DialCallback, type Dialer } from '../forward/index.ts';

function noop(): void {}

/**
 * Plain TCP to a destination outside the mesh that the egress allow-list
 * admitted: there is no sidecar there to present an SVID, so the app's
 * own bytes (its TLS, or its plain HTTP) go as they are. Names resolve
 * through `lookup` (transparent mode's guard: never loopback, link-local,
 * multicast or unspecified addresses).
 */
export class EgressDialer implements Dialer {
  readonly target: string;
  readonly #address: Address;
  readonly #timeoutMs: number;
  readonly #lookup: LookupFunction;

  constructor(address: Address, connectTimeoutMs: number, lookup: LookupFunction) {
    this.#address = address;
    this.#timeoutMs = connectTimeoutMs;
    this.#lookup = lookup;
    this.target = formatAddress(address);
  }

  /** Plain TCP carries no credentials, so a rotation never retires its connections: never fires. */
  onCredentialsChange(_listener: () => void): void {}

  dial(cb: DialCallback): void {
    const socket = net.connect({ host: this.#address.host, port: this.#address.port, noDelay: true, lookup: this.#lookup });
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      socket.setTimeout(0);
      socket.removeListener('error', onError);
      if (err === null) return cb(null, socket, '');
      socket.on('error', noop);
      socket.destroy();
      cb(err);
    };
    const onError = (err: Error & { code?: string }): void => {
      finish(err instanceof ForwardError ? err : new ForwardError('forward.connect_failed', `upstream connect error: ${err.code ?? err.message} ${this.target}`, { cause: err }));
    };
    socket.setTimeout(this.#timeoutMs, () => finish(new ForwardError('forward.connect_timeout', `upstream connect error: no connection after ${this.#timeoutMs}ms to ${this.target}`)));
    socket.on('error', onError);
    socket.once('connect', () => finish(null));
  }
}
