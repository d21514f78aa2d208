import { formatAddress, type Config } from '../config/index.ts';
import { fail, ok, type CheckResult } from './check-result.ts';

/** A listener the configuration asks for: `admin`, `inbound`, `outbound`, `tcp-inbound:<name>`, `tcp-outbound:<name>`. */
export interface ConfiguredListener {
  readonly name: string;
  /** `host:port` as configured. */
  readonly address: string;
}

/** Every listener of `config`, named as sidecar/app.ts names them. */
export function configuredListeners(config: Config): ConfiguredListener[] {
  return [
    { name: 'admin', address: formatAddress(config.admin.listen) },
    ...(config.inbound ? [{ name: 'inbound', address: formatAddress(config.inbound.listen) }] : []),
    ...(config.outbound ? [{ name: 'outbound', address: formatAddress(config.outbound.listen) }] : []),
    ...config.tcp.map((t) => ({ name: `tcp-${t.direction}:${t.name}`, address: formatAddress(t.listen) })),
  ];
}

/** A pre-flight trial bind of one configured address: undefined when it bound, else the errno code. */
export interface BindTrial extends ConfiguredListener {
  readonly error: string | undefined;
}

/** What a failed bind means to an operator. */
const BIND_FIXES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'something already listens there: a running sidecar (check it live with --admin http://ADMIN), or another process (ss -ltnp)',
  EACCES: 'ports below 1024 need root or CAP_NET_BIND_SERVICE: pick a port of 1024 or more',
  EADDRNOTAVAIL: 'no interface of this host has that address: listen on 0.0.0.0, 127.0.0.1 or an address of this pod',
  ENOTFOUND: 'the host name does not resolve: use an IP address',
};

/**
 * `listeners` before start: every configured address can be bound now
 * (nothing else holds it, the port is allowed, the address is local).
 */
export function checkListenersPreflight(trials: readonly BindTrial[]): CheckResult {
  const name = 'listeners';
  const bad = trials.filter((t) => t.error !== undefined);
  if (bad.length === 0) return ok(name, `${trials.length} addresses free to bind: ${trials.map((t) => `${t.name} ${t.address}`).join(', ')}`);
  const detail = bad.map((t) => `${t.name} ${t.address}: cannot bind (${t.error})`).join('; ');
  const fixes = [...new Set(bad.map((t) => BIND_FIXES[t.error!] ?? 'choose another address in the configuration'))];
  return fail(name, detail, fixes.join('; '));
}

/** A listener of a running sidecar and whether it is bound (its /debug/listeners, or a connect from here). */
export interface LiveListener extends ConfiguredListener {
  readonly bound: boolean;
}

/**
 * `listeners` of a running sidecar: every listener is bound. Inbound
 * listeners bind only once the first SVID arrives (docs/decisions/007-sidecar-lifecycle.md).
 */
export function checkListenersLive(listeners: readonly LiveListener[] | { readonly error: string }): CheckResult {
  const name = 'listeners';
  if ('error' in listeners) return fail(name, `cannot list the sidecar's listeners: ${listeners.error}`, 'check that --admin names the admin listener (admin.listen) of a running sidecar, from inside its pod');
  const unbound = listeners.filter((l) => !l.bound);
  if (unbound.length > 0) {
    return fail(
      name,
      `not bound: ${unbound.map((l) => `${l.name} ${l.address}`).join(', ')}`,
      'inbound listeners bind after the first SVID arrives: see the svid checks and the sidecar log ("listen failed")',
    );
  }
  return ok(name, `${listeners.length} bound: ${listeners.map((l) => `${l.name} ${l.address}`).join(', ')}`);
}

/** What the admin listener answered on one path, or why it did not. */
export type AdminOutcome = { readonly status: number; readonly body: string } | { readonly error: string };

/** `sidecar-ready`: the running sidecar's /readyz; a 503 body lists its reasons, one per line. */
export function checkReadyz(answer: AdminOutcome, adminUrl: string): CheckResult {
  const name = 'sidecar-ready';
  if ('error' in answer) {
    return fail(name, `no answer from ${adminUrl}: ${answer.error}`, 'is the sidecar running, and does --admin match its admin.listen? Run check inside the pod (kubectl exec) for a loopback admin address');
  }
  const body = answer.body.trim().split('\n').filter(Boolean).join('; ');
  if (answer.status === 200) return ok(name, `${adminUrl}/readyz: ${body || 'ready'}`);
  return fail(name, `${adminUrl}/readyz answered ${answer.status}: ${body || '(no reason given)'}`, 'each reason names what is missing; the checks above and the sidecar log say why');
}
