import { request } from 'node:http';
import { CheckError } from './check-error.ts';

/** Debug answers are small JSON documents; anything larger is cut off as an error. */
const MAX_BODY_BYTES = 1 << 20;

/** One answer of the sidecar's admin listener. */
export interface AdminAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * Checks `--admin`: an http:// URL naming a host and port, nothing else
 * (the admin listener serves plain HTTP at fixed paths). Throws CheckError
 * 'check.bad_admin_url'.
 */
export function parseAdminUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CheckError('check.bad_admin_url', `check: --admin ${JSON.stringify(text)} is not a URL (write http://127.0.0.1:15000)`);
  }
  if (url.protocol !== 'http:') throw new CheckError('check.bad_admin_url', `check: --admin must be an http:// URL, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.pathname !== '/') {
    throw new CheckError('check.bad_admin_url', 'check: --admin takes only scheme, host and port (http://HOST:PORT)');
  }
  return url;
}

/**
 * GETs `path` from the admin listener at `base`, giving up after
 * `timeoutMs`. Rejects on a connection failure, a timeout or a body over
 * 1 MiB; any HTTP status resolves.
 */
export function adminGet(base: URL, path: string, timeoutMs: number): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method: 'GET', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json, text/plain' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          res.destroy();
          reject(new Error(`${path}: answer larger than ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (err: Error) => reject(err.name === 'AbortError' || err.name === 'TimeoutError' ? new Error(`no answer within ${timeoutMs} ms`) : err));
    req.end();
  });
}
