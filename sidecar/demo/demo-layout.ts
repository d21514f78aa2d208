import { join } from 'node:path';
import type { BankChainDemo } from './bank-chain-demo.ts';
import { SPOOFED_ID } from './demo-apps.ts';
import type { DemoReport } from './demo-report.ts';
import type { EndUserDemo } from './end-user-demo.ts';

/** The demo's trust domain. */
export const TD = 'example.org';
/** The SPIFFE IDs of the demo's three first workloads. */
export const ID = {
  frontend: `spiffe://${TD}/frontend`,
  backend: `spiffe://${TD}/backend`,
  intruder: `spiffe://${TD}/intruder`,
} as const;
/** One of the demo's three first workloads. */
export type Workload = keyof typeof ID;
/** The three in the order they are started and listed. */
export const WORKLOADS = Object.keys(ID) as Workload[];

/** The loopback ports of the demo: apps, sidecar listeners, admin listeners. */
export interface DemoPorts {
  readonly feApp: number;
  readonly feOut: number;
  readonly feAdmin: number;
  readonly beApp: number;
  readonly beIn: number;
  readonly beAdmin: number;
  readonly inOut: number;
  readonly inAdmin: number;
}

/** The admin port of each workload's sidecar. */
export function adminPorts(p: DemoPorts): Record<Workload, number> {
  return { frontend: p.feAdmin, backend: p.beAdmin, intruder: p.inAdmin };
}

/**
 * The three sidecars' configurations; `backendExtra` adds sections to the
 * backend's (the end-user part's `auth:` and `headers:`), `frontendRoutes`
 * upstreams to the frontend's (the bank chain's way in).
 */
export function sidecarConfigs(dir: string, p: DemoPorts, policyFile: string, backendExtra: Record<string, unknown>, frontendRoutes: readonly Record<string, unknown>[]): Record<Workload, Record<string, unknown>> {
  const socket = (w: Workload): string => `unix://${join(dir, `${w}.sock`)}`;
  const backendRoute = { host: 'backend', address: `127.0.0.1:${p.beIn}`, serverId: ID.backend };
  return {
    // The frontend passes its users' tokens on (the default, `none`, removes them before the network).
    frontend: {
      spiffe: { endpointSocket: socket('frontend') },
      outbound: { listen: `127.0.0.1:${p.feOut}`, upstreams: [{ ...backendRoute, token: 'forward' }, ...frontendRoutes] },
      admin: { listen: `127.0.0.1:${p.feAdmin}` },
    },
    backend: {
      spiffe: { endpointSocket: socket('backend') },
      inbound: { listen: `127.0.0.1:${p.beIn}`, app: `127.0.0.1:${p.beApp}`, policyFile },
      admin: { listen: `127.0.0.1:${p.beAdmin}` },
      ...backendExtra,
    },
    intruder: { spiffe: { endpointSocket: socket('intruder') }, outbound: { listen: `127.0.0.1:${p.inOut}`, upstreams: [backendRoute] }, admin: { listen: `127.0.0.1:${p.inAdmin}` } },
  };
}

/** The table of workloads and their listeners, and the authorization server. */
export function printOverview(report: DemoReport, p: DemoPorts, endUser: EndUserDemo | undefined, chain: BankChainDemo | undefined): void {
  const rows: [string, string, number][] = [
    ['frontend', `app 127.0.0.1:${p.feApp} -> its sidecar's outbound 127.0.0.1:${p.feOut}`, p.feAdmin],
    ['backend', `sidecar inbound 127.0.0.1:${p.beIn} (mTLS) -> app 127.0.0.1:${p.beApp}`, p.beAdmin],
    ['intruder', `sidecar outbound 127.0.0.1:${p.inOut}`, p.inAdmin],
    ...(chain?.overviewRows() ?? []),
  ];
  const width = Math.max(...rows.map((r) => r[1].length)) + 2;
  report.say(`  workload  ${'listeners'.padEnd(width)}admin (metrics, readyz, debug)`);
  for (const [w, l, a] of rows) report.say(`  ${w.padEnd(8)}  ${l.padEnd(width)}http://127.0.0.1:${a}`);
  for (const line of endUser?.describe() ?? []) report.say(line);
  for (const line of chain?.describe() ?? []) report.say(line);
}

/** What {@link printTries} describes besides the ports. */
export interface TryContext {
  readonly dir: string;
  readonly policyPath: string;
  readonly svidTtlMs: number;
  readonly endUser: EndUserDemo | undefined;
  readonly chain: BankChainDemo | undefined;
}

/** The curl lines to try while the demo keeps running. */
export async function printTries(report: DemoReport, p: DemoPorts, o: TryContext): Promise<void> {
  report.say('Try it (Ctrl-C stops everything and removes the working directory):');
  const tries: [string, string][] = [
    [`curl -H 'Host: backend' http://127.0.0.1:${p.feOut}/hello`, 'as the frontend: allowed'],
    [`curl -H 'Host: backend' -H 'x-client-spiffe-id: ${SPOOFED_ID}' http://127.0.0.1:${p.feOut}/hello`, 'spoofed header: replaced'],
    [`curl -H 'Host: backend' http://127.0.0.1:${p.inOut}/hello`, 'as the intruder: 403'],
    [`curl 'http://127.0.0.1:${p.feApp}/call?path=/hello'`, 'through the frontend app'],
    [`curl http://127.0.0.1:${p.beAdmin}/metrics`, "the backend sidecar's metrics"],
    [`curl http://127.0.0.1:${p.beAdmin}/debug/svid`, `its SVID (the serial changes every ${o.svidTtlMs / 2000}s)`],
  ];
  const cmdWidth = Math.max(...tries.map((t) => t[0].length)) + 2;
  for (const [cmd, what] of tries) report.say(`  ${cmd.padEnd(cmdWidth)}# ${what}`);
  // A token makes a long line: its comment goes above it.
  for (const [cmd, what] of [...((await o.endUser?.tryLines(p.feApp)) ?? []), ...((await o.chain?.tryLines(p.feOut)) ?? [])]) report.say(`  # ${what}\n  ${cmd}`);
  report.say(`  other metrics: http://127.0.0.1:${p.feAdmin}/metrics (frontend), http://127.0.0.1:${p.inAdmin}/metrics (intruder)`);
  report.say(`  sidecar logs: ${o.dir}/{frontend,backend,intruder}-sidecar.log${o.chain ? `, ${o.chain.logFiles()}` : ''}${o.endUser ? `, authorization server: ${o.dir}/authorization-server.log` : ''}`);
  report.say(`  backend policy: ${o.policyPath} (edit it: the sidecar reloads it)`);
}
