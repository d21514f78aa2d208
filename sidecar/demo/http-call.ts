import { request, type Agent, type OutgoingHttpHeaders } from 'node:http';

/** What {@link httpCall} returns. */
export interface HttpResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** Options of {@link httpCall}. */
export interface HttpCallOptions {
  readonly host?: string;
  readonly method?: string;
  /** Sent as given; a `host` entry sets the Host header (how the outbound proxy routes). */
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string;
  /** Default: a new connection per call. */
  readonly agent?: Agent | false;
  /** Fails the call after this long without a response (default 10 s). */
  readonly timeoutMs?: number;
}

/** One plain-HTTP request to `host:port` (default 127.0.0.1); resolves with status and body, rejects on network errors. */
export function httpCall(port: number, path: string, o: HttpCallOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: o.host ?? '127.0.0.1', port, path, method: o.method ?? 'GET', headers: o.headers ?? {}, agent: o.agent ?? false, timeout: o.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response from 127.0.0.1:${port}${path} in time`)));
    req.on('error', reject);
    req.end(o.body);
  });
}
