/**
 * The port a Host / :authority value names (`backend:9090` → 9090,
 * `[fd00::1]:8080` → 8080), or undefined when it names none or is
 * malformed: such requests go to the default app.
 */
export function authorityPort(authority: string): number | undefined {
  const close = authority.lastIndexOf(']');
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || colon < close) return undefined;
  // An unbracketed IPv6 literal has several colons and no port.
  if (close < 0 && authority.indexOf(':') !== colon) return undefined;
  const digits = authority.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(digits)) return undefined;
  const port = Number(digits);
  return port >= 1 && port <= 65535 ? port : undefined;
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
