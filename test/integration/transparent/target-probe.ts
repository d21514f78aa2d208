/**
 * What the original-destination probes (dual-stack-probe.ts,
 * original-destination-probe.ts) share: connect once to each `host:port`
 * target, take the connection the probe's own listener accepted (the
 * iptables rules under test may have redirected it there), and record
 * what the probe reads from that socket.
 */
import { createConnection, type Socket } from 'node:net';
import { errorCode } from '../../../sidecar/core/index.ts';

export class TargetProbe {
  readonly #waiting: ((s: Socket) => void)[] = [];

  /** The connection handler of the probe's listeners: hands each accepted socket to the target waiting for it. */
  readonly accept = (s: Socket): void => {
    s.on('error', () => {});
    this.#waiting.shift()?.(s);
  };

  /**
   * Per target: what `read` returns for the accepted socket, or its error
   * code when it throws; `{ error }` when the connection failed or nothing
   * was accepted within 5 s.
   */
  async run(targets: readonly string[], read: (accepted: Socket) => unknown): Promise<Record<string, unknown>> {
    const results: Record<string, unknown> = {};
    for (const target of targets) {
      const colon = target.lastIndexOf(':');
      const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
      const accepted = new Promise<Socket>((resolve) => this.#waiting.push(resolve));
      const client = createConnection({ host, port: Number(target.slice(colon + 1)) });
      client.on('error', (err) => (results[target] = { error: err.message }));
      const s = await Promise.race([accepted, new Promise<undefined>((resolve) => setTimeout(resolve, 5_000, undefined).unref())]);
      if (s === undefined) {
        this.#waiting.length = 0;
        results[target] ??= { error: 'not accepted' };
      } else {
        try {
          results[target] = read(s);
        } catch (err) {
          results[target] = { code: errorCode(err) ?? String(err) };
        }
        s.destroy();
      }
      client.destroy();
    }
    return results;
  }
}
