import type { ServerResponse } from 'node:http';

/**
 * Answers a webhook request with a short plain-text body (a status line for
 * people reading `curl` output or the API server's log), unless an answer is
 * already on its way or the response is gone.
 */
export function plainTextAnswer(res: ServerResponse, status: number, text: string, extra: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(text.endsWith('\n') ? text : `${text}\n`, 'utf8');
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, ...extra });
  res.end(body);
}
