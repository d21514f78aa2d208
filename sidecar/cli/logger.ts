import type { Writable } from 'node:stream';
import { pino, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from '../config/index.ts';

/** Field names whose values never reach the log, at the top level or one object down. */
const SECRET_FIELDS = [
  'key',
  'privateKey',
  'private_key',
  'keyPem',
  'key_pem',
  'svidKey',
  'token',
  'jwt',
  'jwtSvid',
  'jwt_svid',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'password',
  'secret',
] as const;

/**
 * pino redaction paths: each secret-looking field at the top level, one
 * level down, and inside `headers` objects. Components never log such
 * fields on purpose; this is the second line of defence, so a key or token
 * that reaches a log call by mistake is still not written.
 */
export const REDACT_PATHS: readonly string[] = Object.freeze(
  SECRET_FIELDS.flatMap((f) => {
    const key = /^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`;
    const dot = key.startsWith('[') ? '' : '.';
    return [key, `*${dot}${key}`, `headers${dot}${key}`, `*.headers${dot}${key}`];
  }),
);

/** What redacted values are replaced with. */
export const REDACTED = '[redacted]';

/**
 * The root logger of a CLI command: JSON lines on `out` (pino), ISO
 * timestamps, `level` as a word, secret-looking fields redacted.
 * Components receive `child({ component })` of it.
 */
export function createRootLogger(out: Writable, level: LogLevel, bindings: Record<string, unknown> = {}): PinoLogger {
  return pino(
    {
      level,
      base: bindings,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    out,
  );
}
