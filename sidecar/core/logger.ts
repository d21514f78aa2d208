/**
 * The logging surface components depend on. The CLI builds the root logger
 * (pino); components receive `child({ component })`. Keeping this interface
 * small lets tests pass a recording logger and keeps pino out of the core.
 *
 * Never pass private keys, SVID key material or tokens in log fields.
 */
export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything; the default where none is given. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
