import { connect, createServer } from 'node:net';
import type { Config } from '../config/index.ts';
import { describeError, parsePort, splitHostPort } from '../core/index.ts';
import { adminGet } from './admin-client.ts';
import { configuredListeners, type BindTrial, type ConfiguredListener, type LiveListener } from './listener-checks.ts';

/** A listener address of the validated config (`host:port` / `[v6]:port`) back to its parts. */
function hostPort(address: string): { host: string; port: number } {
  const s = splitHostPort(address);
  const port = 'problem' in s || s.port === undefined ? undefined : parsePort(s.port, true);
  if ('problem' in s || port === undefined) throw new TypeError(`check: listener address ${address} is not host:port`);
  return { host: s.host, port };
}

/** Binds and at once releases `address`; resolves with the errno code of a failure, undefined on success. */
function tryBind(address: string): Promise<string | undefined> {
  const { host, port } = hostPort(address);
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? describeError(err)));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Tries to bind every listener address of `config`, one after another. */
export async function trialBinds(config: Config): Promise<BindTrial[]> {
  const out: BindTrial[] = [];
  for (const l of configuredListeners(config)) out.push({ ...l, error: await tryBind(l.address) });
  return out;
}

/** True when something accepts a TCP connection at `address` within `timeoutMs`; wildcard hosts are reached on loopback. */
function accepts(address: string, timeoutMs: number): Promise<boolean> {
  const { host, port } = hostPort(address);
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new Promise((resolve) => {
    const socket = connect({ host: target, port, timeout: timeoutMs });
    const done = (bound: boolean): void => {
      socket.destroy();
      resolve(bound);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

function isLiveListener(v: unknown): v is LiveListener {
  const l = v as Partial<LiveListener> | null;
  return typeof l?.name === 'string' && typeof l.address === 'string' && typeof l.bound === 'boolean';
}

/** The listen addresses in a /debug/config document (redacted Config: addresses as `host:port`). */
export function listenersFromDebugConfig(doc: unknown): ConfiguredListener[] {
  const c = doc as { admin?: { listen?: unknown }; inbound?: { listen?: unknown } | null; outbound?: { listen?: unknown } | null; tcp?: unknown } | null;
  const out: ConfiguredListener[] = [];
  const add = (name: string, address: unknown): void => {
    if (typeof address === 'string') out.push({ name, address });
  };
  add('admin', c?.admin?.listen);
  add('inbound', c?.inbound?.listen);
  add('outbound', c?.outbound?.listen);
  if (Array.isArray(c?.tcp)) {
    for (const t of c.tcp as { name?: unknown; direction?: unknown; listen?: unknown }[]) add(`tcp-${String(t?.direction)}:${String(t?.name)}`, t?.listen);
  }
  return out;
}

/**
 * The running sidecar's listeners: its /debug/listeners when it serves
 * one, else the addresses of /debug/config each tried with a TCP connect
 * from here. Resolves `{ error }` when neither answers.
 */
export async function liveListeners(admin: URL, timeoutMs: number): Promise<readonly LiveListener[] | { readonly error: string }> {
  try {
    const direct = await adminGet(admin, '/debug/listeners', timeoutMs);
    if (direct.status === 200) {
      const list: unknown = JSON.parse(direct.body);
      if (Array.isArray(list) && list.every(isLiveListener)) return list;
      return { error: '/debug/listeners answered an unexpected document' };
    }
    if (direct.status !== 404) return { error: `/debug/listeners answered ${direct.status}: ${direct.body.trim()}` };
    const config = await adminGet(admin, '/debug/config', timeoutMs);
    if (config.status !== 200) return { error: `/debug/config answered ${config.status}: ${config.body.trim()}` };
    const configured = listenersFromDebugConfig(JSON.parse(config.body));
    if (configured.length === 0) return { error: '/debug/config names no listeners' };
    return await Promise.all(configured.map(async (l) => ({ ...l, bound: await accepts(l.address, timeoutMs) })));
  } catch (err) {
    return { error: describeError(err) };
  }
}
