import { parsePort, splitHostPort } from '../core/index.ts';

/**
 * The port a Host / :authority value names (`backend:9090` → 9090,
 * `[fd00::1]:8080` → 8080), or undefined when it names none or is
 * malformed (core's host:port rules: an IPv6 address only in brackets, a
 * port 1-65535): such requests go to the default app.
 */
export function authorityPort(authority: string): number | undefined {
  const split = splitHostPort(authority);
  return 'problem' in split || split.port === undefined ? undefined : parsePort(split.port);
}

/**
 * Chooses the local app for a request by the port the caller addressed:
 * an app listed for that port, else the default app. Only listed apps can
 * be chosen, so a caller cannot steer a request to any other local port.
 */
export class AppSelector<T> {
  readonly #default: T;
  readonly #byPort: ReadonlyMap<number, T>;

  constructor(defaultApp: T, byPort: ReadonlyMap<number, T>) {
    this.#default = defaultApp;
    this.#byPort = byPort;
  }

  /** The app for a request with this Host / :authority. */
  pick(authority: string): T {
    if (this.#byPort.size === 0) return this.#default;
    const port = authorityPort(authority);
    return (port === undefined ? undefined : this.#byPort.get(port)) ?? this.#default;
  }

  /** Every app, the default first. */
  all(): T[] {
    return [this.#default, ...this.#byPort.values()];
  }
}
