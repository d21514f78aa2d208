/**
 * Polls until something is up: a TCP port that accepts, or an HTTP URL that
 * answers 200. Bounded: rejects after the deadline, or as soon as the
 * process it waits for has exited.
 */
import { get } from 'node:http';
import { connect } from 'node:net';
import type { Spawned } from './process-set.ts';

/** One GET; resolves with the status, or 0 when the request failed. */
export function httpStatus(url: string, timeoutMs = 1_000): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** One GET; resolves with the body text, or rejects. */
export function httpText(url: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
  });
}

/** One connection attempt to 127.0.0.1:`port`; resolves with whether it was accepted. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, proc: Spawned | undefined, timeoutMs: number, intervalMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (proc && !proc.running()) throw new Error(`bench: ${proc.name} exited while waiting for ${what}:\n${proc.output()}`);
    if (performance.now() > deadline) throw new Error(`bench: ${what} not up after ${timeoutMs} ms${proc ? `; ${proc.name} output:\n${proc.output()}` : ''}`);
    await sleep(intervalMs);
  }
}

/** Resolves once 127.0.0.1:`port` accepts a connection. */
export function waitForPort(port: number, proc?: Spawned, timeoutMs = 20_000): Promise<void> {
  return until(`port ${port}`, proc, timeoutMs, 20, () => portOpen(port));
}

/** Resolves once `url` answers 200; polls every `intervalMs`. */
export function waitFor200(url: string, proc?: Spawned, timeoutMs = 20_000, intervalMs = 20): Promise<void> {
  return until(url, proc, timeoutMs, intervalMs, async () => (await httpStatus(url, 500)) === 200);
}
