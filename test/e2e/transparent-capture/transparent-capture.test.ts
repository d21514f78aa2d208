/**
 * Transparent capture of every intra-cluster TCP connection, end to end:
 * pods as network namespaces on a dual-stack bridge, each sidecar as its
 * own uid with the redirect rules of `spiffe-sidecar iptables apply`
 * (iptables and ip6tables), identities from a real SPIRE server and agent
 * (`unix:uid:<sidecar uid>`), and real servers behind the sidecars:
 *
 * - postgres: PostgreSQL 15 (initdb in the run's folder, fsync off, as
 *   Debian's `postgres` account) on 127.0.0.1:5432; redis: Redis 7 on 127.0.0.1:6379. Both sidecars are
 *   configured by environment only, as the injector renders them, with a
 *   policy admitting the client's SPIFFE ID alone.
 * - client: psql, redis-cli, curl and a gRPC client dial pod IPs and names
 *   unchanged; its sidecar has no tunnel, upstream or port configuration.
 * - intruder: a sidecar whose identity no policy lists.
 * - web: one app with HTTP on 8080 and 8081 and gRPC on 9090, behind an
 *   inbound with `transparent: true` and no `appPorts`.
 * - egress: a client whose egress allow-list admits `allowed.test:443`.
 * - internet (outside the mesh CIDRs, TEST-NET-2): two TLS servers,
 *   `allowed.test` and `denied.test`.
 *
 * Packet captures (tcpdump) on the bridge show what crossed the pod
 * network; the same capture on a server pod's loopback proves the marker
 * would be visible if it travelled in the clear.
 *
 * Needs root, ip, iptables, ip6tables, setpriv, curl, openssl, psql,
 * PostgreSQL's server binaries, redis-server, redis-cli, tcpdump, and SPIRE
 * (install-spire.sh). Everything it creates is removed in t.after and by
 * the process 'exit' hooks; the last test checks that nothing is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools } from '../../support/tools.ts';
import { assertReachableByOthers, nodeBin, projectRoot, type Credentials } from '../../support/spire.ts';
import { inNamespace, mustRun, nsRun, type Pod, type PodNetwork } from '../../support/netns.ts';
import type { LoggedProcess } from '../../support/logged-process.ts';
import { podCurl } from '../../support/pod-checks.ts';
import { as, assertAllReady, assertNoLeftovers, NODE_ARGV as NODE, POD_ENV, POD_PORTS, PodRun, SIDECAR_MAIN as MAIN, type PodRunRecord } from '../../support/pod-run.ts';
import { startPostgres } from '../../support/postgres.ts';
import { startRedis } from '../../support/redis.ts';
import { startCapture, type Capture, type TcpSegment } from '../../support/tcpdump.ts';

const TD = 'example.org';
const PODS = ['client', 'intruder', 'egress', 'postgres', 'redis', 'web'] as const;
type PodName = (typeof PODS)[number];
const ID = Object.fromEntries(PODS.map((p) => [p, `spiffe://${TD}/ns/demo/sa/${p}`])) as Record<PodName, string>;

/** Each pod's sidecar uid; its app (or server) runs as uid + 1, as separate containers of a pod would. */
const UID: Record<PodName, number> = { client: 1511, intruder: 1521, egress: 1531, postgres: 1541, redis: 1551, web: 1561 };
const appOf = (pod: PodName): Credentials => as(UID[pod] + 1);

const { inbound: INBOUND_PORT, outbound: OUTBOUND_PORT, admin: ADMIN_PORT } = POD_PORTS;
const PG_PORT = 5432;
const REDIS_PORT = 6379;
const HERE = join('test', 'e2e', 'transparent-capture');
const ALLOWED = 'allowed.test';
const DENIED = 'denied.test';

/** What the last test needs to look for leftovers of the first. */
const record: PodRunRecord = {};

/** The ports the init container captures inbound, as the injector sets them (`''` = none: a pod without an app port). */
const INBOUND_PORTS: Record<PodName, string> = { client: '', intruder: '', egress: '', postgres: String(PG_PORT), redis: String(REDIS_PORT), web: '*' };

/**
 * The environment of a sidecar configured without a file, as the injector
 * renders it (docs/kubernetes.md): dual-stack listeners, outbound
 * interception in transparent mode, and for server pods a transparent
 * inbound in front of the app port with the pod's policy.
 */
function sidecarEnv(socket: string, extra: Record<string, string>): Record<string, string> {
  return {
    ...POD_ENV,
    SPIFFE_ENDPOINT_SOCKET: socket,
    SPIFFE_SIDECAR_ADMIN_LISTEN: `[::]:${ADMIN_PORT}`,
    SPIFFE_SIDECAR_OUTBOUND_LISTEN: `[::]:${OUTBOUND_PORT}`,
    SPIFFE_SIDECAR_TRANSPARENT: 'true',
    SPIFFE_SIDECAR_LOG_LEVEL: 'debug',
    SPIFFE_SIDECAR_ACCESS_LOG: 'true',
    SPIFFE_SIDECAR_DRAIN_TIMEOUT: '1s',
    ...extra,
  };
}

/** The server pods' inbound, by environment (the new variables of the outbound classification contract). */
function serverEnv(appPort: number, policyFile: string): Record<string, string> {
  return {
    SPIFFE_SIDECAR_INBOUND_LISTEN: `[::]:${INBOUND_PORT}`,
    SPIFFE_SIDECAR_APP_ADDRESS: `127.0.0.1:${appPort}`,
    SPIFFE_SIDECAR_INBOUND_TRANSPARENT: 'true',
    SPIFFE_SIDECAR_POLICY_FILE: policyFile,
  };
}

/** The multi-port pod's configuration file: transparent inbound, one default app, no appPorts (JSON is YAML). */
function webConfig(socket: string): string {
  return JSON.stringify(
    {
      spiffe: { endpointSocket: socket },
      inbound: { listen: `[::]:${INBOUND_PORT}`, app: '127.0.0.1:8080', transparent: true },
      outbound: { listen: `[::]:${OUTBOUND_PORT}`, transparent: { enabled: true } },
      admin: { listen: `[::]:${ADMIN_PORT}` },
      drain: { timeout: '1s' },
      log: { level: 'debug', accessLog: true },
    },
    null,
    2,
  );
}

/** One sample of a Prometheus text exposition. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Scrapes a sidecar's /metrics from the node. */
async function scrape(pod: Pod): Promise<Sample[]> {
  const res = await fetch(`http://${pod.ip}:${ADMIN_PORT}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of `name` over the samples whose labels include `want`. */
function total(samples: readonly Sample[], name: string, want: Readonly<Record<string, string>> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/** The JSON log lines of a process's log file. */
function jsonLines(p: LoggedProcess): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(p.logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial last line
    }
  }
  return out;
}

/** psql against `host` as a network client: unaligned, tuples only, no TLS of its own (the mesh is what encrypts). */
function psql(host: string, sql: string): string[] {
  return ['psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql, `host=${host} port=${PG_PORT} user=postgres dbname=postgres sslmode=disable connect_timeout=5`];
}

const FIN = (lines: readonly string[]): boolean => lines.some((l) => l.includes('Flags [F'));

/**
 * Why the first payload each way to and from `ip`:`port` is not a TLS
 * handshake (RFC 8446 §5.1: record type 22, legacy version 0x03xx; §4:
 * message 1 ClientHello towards the server, 2 ServerHello back), or
 * undefined when both are.
 */
function notTls(segments: readonly TcpSegment[], ip: string, port: number): string | undefined {
  const first = (toServer: boolean): Buffer | undefined =>
    segments.find((x) => (toServer ? x.dst === ip && x.dstPort === port : x.src === ip && x.srcPort === port))?.payload;
  for (const [toServer, hello] of [[true, 1], [false, 2]] as const) {
    const p = first(toServer);
    if (p === undefined) return `no data ${toServer ? 'to' : 'from'} ${ip}:${port}`;
    if (p.length < 6 || p[0] !== 22 || p[1] !== 3 || p[5] !== hello) return `${toServer ? 'to' : 'from'} ${ip}:${port} starts ${p.subarray(0, 8).toString('hex')}, not a TLS ${hello === 1 ? 'ClientHello' : 'ServerHello'}`;
  }
  return undefined;
}

test('transparent capture: PostgreSQL, Redis, multi-port, IPv6 and egress through sidecars with SPIRE, iptables and ip6tables', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['ip', 'iptables', 'ip6tables', 'curl', 'setpriv', 'pgrep', 'openssl', 'psql', 'redis-server', 'redis-cli', 'tcpdump'], { root: true })) return;
  assertReachableByOthers([
    { path: nodeBin, exec: true },
    { path: join(projectRoot, MAIN) },
    { path: join(projectRoot, HERE, 'web-app.ts') },
    { path: join(projectRoot, 'test', 'e2e', 'k8s-pods', 'grpc-client.ts') },
    { path: join(projectRoot, 'node_modules', '@grpc', 'grpc-js', 'package.json') },
    { path: join(projectRoot, 'build', 'native', 'original_dst.node') },
  ]);
  const run = await PodRun.start(t, {
    label: 'capture',
    trustDomain: TD,
    network: { pods: [...PODS], ipv6: true, outside: [{ name: 'internet', hostNames: [ALLOWED, DENIED] }] },
    entries: PODS.map((p) => ({ spiffeId: ID[p], uid: UID[p] })),
    record,
  });
  const { tag, dir, teardown } = run;
  const net: PodNetwork = run.net;
  const s = run.spire;
  const step = run.step.bind(run);
  const pod = (name: PodName): Pod => net.pod(name);
  const internet = net.outside('internet');
  t.diagnostic(`bridge ${net.bridge} ${net.subnet} ${net.subnet6}; pods ${[...net.pods.values()].map((p) => `${p.name}=${p.ip},${p.ip6}`).join(' ')}; internet ${[...internet.addresses].map(([n, ip]) => `${n}=${ip}`).join(' ')}`);

  // The servers (the app containers, each as its own uid) start while the
  // init containers' rules go in: they do not depend on each other.
  const serversStarting = step('servers', async () => {
    const web = run.startIn('web-app', 'web', appOf('web'), [...NODE, join(HERE, 'web-app.ts'), tag]);
    await makeEgressCerts(dir);
    const ext = run.startIn('internet', internet, undefined, [...NODE, join(HERE, 'egress-server.ts'), dir, ...[...internet.addresses].map(([n, ip]) => `${n}=${ip}`)]);
    const [pg, redis] = await Promise.all([
      startPostgres({ ns: pod('postgres').ns, dir, port: PG_PORT, teardown }),
      startRedis({ ns: pod('redis').ns, dir, owner: appOf('redis'), port: REDIS_PORT, teardown }),
      web.waitForLine(/^ready$/, 30_000),
      ext.waitForLine(/^ready$/, 30_000),
    ]);
    return { pg, redis };
  });
  serversStarting.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"

  // The init container's job (iptables and ip6tables), as the injector sets it per pod.
  await step('iptables apply', async () => {
    await run.applyIptables(PODS.map((p) => ({ pod: p, uid: UID[p], inboundPorts: INBOUND_PORTS[p] })));
    const rules6 = await mustRun(inNamespace(pod('postgres').ns, ['ip6tables', '-w', '-t', 'nat', '-S']));
    assert.match(rules6, /SPIFFE_SIDECAR_INBOUND/, 'iptables apply installed no ip6tables rules');
  });

  const policy = (name: string, allowed: string): string =>
    run.writeFile(`${name}-policy.yaml`, ['version: 1', 'rules:', `  - name: ${name}`, '    from:', `      - id: ${allowed}`, ''].join('\n'));
  const webConfigFile = run.writeFile('web-sidecar.yaml', webConfig(s.socketAddress));
  const envOf: Record<PodName, Record<string, string>> = {
    client: sidecarEnv(s.socketAddress, {}),
    intruder: sidecarEnv(s.socketAddress, {}),
    egress: sidecarEnv(s.socketAddress, { SPIFFE_SIDECAR_EGRESS_ALLOW: JSON.stringify([{ host: ALLOWED, ports: [443] }]) }),
    postgres: sidecarEnv(s.socketAddress, serverEnv(PG_PORT, policy('postgres-clients', ID.client))),
    redis: sidecarEnv(s.socketAddress, serverEnv(REDIS_PORT, policy('redis-clients', ID.client))),
    web: { ...POD_ENV },
  };

  // A sidecar that does not start fails the rows that need it, not the others.
  const sidecars = new Map<PodName, LoggedProcess>();
  const down = await step('sidecars', async () => {
    for (const p of PODS) {
      // Configured by environment, so no file of the run is on the command
      // line: the title carries the run's tag for the leftover check.
      const argv = [nodeBin, `--title=ss${tag}-${p}-sidecar`, '--disable-warning=ExperimentalWarning', MAIN, 'run', ...(p === 'web' ? ['--config', webConfigFile] : [])];
      sidecars.set(p, run.startIn(`${p}-sidecar`, p, as(UID[p]), argv, envOf[p]));
    }
    return run.sidecarsReady(sidecars, 90_000);
  });
  const servers = await serversStarting;
  if (down.size > 0) run.failed = true;

  const needs = (...pods: PodName[]): void => assertAllReady(new Map([...down].filter(([p]) => (pods as string[]).includes(p))));
  const sub = run.sub.bind(run);

  /**
   * Runs `fn` while capturing the server pod's traffic on the bridge and
   * on its loopback, asserts its result with `check`, waits until both
   * captures hold the end of the connection (a FIN: everything before it
   * is in the file), and says where `marker` was seen and whether the
   * bridge carried TLS.
   */
  const capturedAt = async <T>(label: string, server: Pod, port: number, marker: string, fn: () => Promise<T>, check: (result: T) => void): Promise<{ result: T; bridge: boolean; loopback: boolean; notTls: string | undefined }> => {
    const bridge = await startCapture({ name: `tcpdump-${label}-bridge`, iface: net.bridge, filter: ['tcp', 'and', 'host', server.ip], file: join(dir, `${label}-bridge.pcap`), logFile: join(dir, `tcpdump-${label}-bridge.log`), teardown });
    const lo = await startCapture({ name: `tcpdump-${label}-lo`, iface: 'lo', ns: server.ns, filter: ['tcp', 'port', String(port)], file: join(dir, `${label}-lo.pcap`), logFile: join(dir, `tcpdump-${label}-lo.log`), teardown });
    try {
      const result = await fn();
      check(result);
      // Data to the server's own IP and port crossed the bridge: the capture saw the mesh hop.
      await bridge.waitFor(`data to ${server.ip}.${port} and a FIN`, (lines) => lines.some((l) => l.includes(`> ${server.ip}.${port}:`) && /length [1-9]/.test(l)) && FIN(lines));
      await lo.waitFor('a FIN on loopback', FIN);
      return { result, bridge: bridge.contains(marker), loopback: lo.contains(marker), notTls: notTls(bridge.segments(), server.ip, port) };
    } finally {
      await Promise.all([bridge.stop(), lo.stop()]);
    }
  };

  // ---- PostgreSQL ---------------------------------------------------------------------------------------------
  await sub('(a) psql in the client pod reaches PostgreSQL by pod IP through both sidecars; the server sees its own sidecar; the bridge carries no SQL in the clear', async () => {
    needs('client', 'postgres');
    const marker = `pgmark${randomBytes(6).toString('hex')}`;
    const sql = `SELECT '${marker}', client_addr, client_port FROM pg_stat_activity WHERE pid = pg_backend_pid()`;
    const seen = await capturedAt('pg', pod('postgres'), PG_PORT, marker, () => nsRun(pod('client').ns, psql(pod('postgres').ip, sql), appOf('client'), 30_000), (r) => assert.equal(r.code, 0, `psql failed: ${r.stderr}`));
    const [got, clientAddr] = seen.result.stdout.trim().split('|');
    assert.equal(got, marker);
    // The only network client of a server bound to 127.0.0.1 is a process of its own pod: the sidecar.
    assert.equal(clientAddr, '127.0.0.1', `PostgreSQL saw the connection from ${clientAddr}, not from its pod's sidecar`);
    assert.equal(seen.loopback, true, 'control: the marker is not even in the loopback capture (capture broken?)');
    assert.equal(seen.bridge, false, 'the SQL text crossed the pod network in the clear');
    assert.equal(seen.notTls, undefined, 'the mesh hop to PostgreSQL is not TLS');
  });

  await sub('(b) the intruder\'s psql is closed at connection time; the PostgreSQL sidecar counts and logs the denial and PostgreSQL never sees it', async () => {
    needs('intruder', 'postgres');
    const pgLog = (): number => (readFileSync(servers.pg.process.logFile, 'utf8').match(/connection received/g) ?? []).length;
    const before = pgLog();
    const marker = `pgdeny${randomBytes(6).toString('hex')}`;
    const r = await nsRun(pod('intruder').ns, psql(pod('postgres').ip, `SELECT '${marker}'`), appOf('intruder'), 30_000);
    assert.notEqual(r.code, 0, `psql from the intruder succeeded: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, new RegExp(marker));
    // Closed by the server side after the handshake: not refused, not timed out, not answered.
    assert.match(r.stderr, /closed the connection|reset by peer|could not receive data/i, `psql was not closed: ${r.stderr}`);
    const m = await scrape(pod('postgres'));
    assert.ok(total(m, 'sidecar_authz_decisions_total', { decision: 'deny', peer_spiffe_id: ID.intruder }) >= 1, 'no deny counted for the intruder');
    assert.ok(total(m, 'sidecar_authz_decisions_total', { decision: 'allow', peer_spiffe_id: ID.client }) >= 1, 'no allow counted for the client (row a)');
    const logged = jsonLines(sidecars.get('postgres')!).some((l) => l['peer_id'] === ID.intruder && l['decision'] === 'deny');
    assert.ok(logged, 'the PostgreSQL sidecar logged no denial naming the intruder');
    assert.equal(pgLog(), before, 'PostgreSQL received a connection for the intruder');
  });

  // ---- Redis ------------------------------------------------------------------------------------------------------
  await sub('(c) redis-cli in the client pod reaches Redis by pod IP; CLIENT INFO shows its own sidecar; the bridge carries no RESP value in the clear', async () => {
    needs('client', 'redis');
    const marker = `redismark${randomBytes(6).toString('hex')}`;
    const cli = (...args: string[]): string[] => ['redis-cli', '-h', pod('redis').ip, '-p', String(REDIS_PORT), ...args];
    const seen = await capturedAt('redis', pod('redis'), REDIS_PORT, marker, () => nsRun(pod('client').ns, cli('SET', 'capture-key', marker), appOf('client'), 30_000), (r) => assert.equal(r.stdout.trim(), 'OK', `redis-cli SET: exit ${r.code} ${r.stdout} ${r.stderr}`));
    const back = await nsRun(pod('client').ns, cli('GET', 'capture-key'), appOf('client'), 30_000);
    assert.equal(back.stdout.trim(), marker, back.stderr);
    const info = await nsRun(pod('client').ns, cli('CLIENT', 'INFO'), appOf('client'), 30_000);
    const addr = /(?:^|\s)addr=(\S+)/.exec(info.stdout)?.[1];
    assert.match(addr ?? '', /^127\.0\.0\.1:\d+$/, `Redis saw the connection from ${addr ?? info.stdout + info.stderr}, not from its pod's sidecar`);
    assert.equal(seen.loopback, true, 'control: the marker is not even in the loopback capture (capture broken?)');
    assert.equal(seen.bridge, false, 'the value crossed the pod network in the clear');
    assert.equal(seen.notTls, undefined, 'the mesh hop to Redis is not TLS');
  });

  await sub('(d) the intruder\'s redis-cli is closed at connection time and its write never lands', async () => {
    needs('intruder', 'redis');
    const marker = `redisdeny${randomBytes(6).toString('hex')}`;
    const r = await nsRun(pod('intruder').ns, ['redis-cli', '-h', pod('redis').ip, '-p', String(REDIS_PORT), 'SET', 'intruder-key', marker], appOf('intruder'), 30_000);
    assert.notEqual(r.stdout.trim(), 'OK', 'the intruder\'s SET succeeded');
    assert.match(`${r.stdout}${r.stderr}`, /closed the connection|reset by peer/i, `redis-cli was not closed: ${r.stdout} ${r.stderr}`);
    const stored = await servers.redis.cliLocal(['GET', 'intruder-key']);
    assert.equal(stored.code, 0, stored.stderr);
    assert.equal(stored.stdout.trim(), '', 'the intruder\'s value is in Redis');
    const m = await scrape(pod('redis'));
    assert.ok(total(m, 'sidecar_authz_decisions_total', { decision: 'deny', peer_spiffe_id: ID.intruder }) >= 1, 'no deny counted for the intruder');
  });

  // ---- Several ports, no appPorts ------------------------------------------------------------------------------
  await sub('(e) one pod serves HTTP on 8080 and 8081 and gRPC on 9090 without appPorts: the dialled port picks the app, identity included', async () => {
    needs('client', 'web');
    for (const port of [8080, 8081]) {
      const r = await podCurl(net, 'client', appOf('client'), [`http://web:${port}/port-check?p=${port}`]);
      assert.equal(r.exit, 0, r.stderr);
      assert.equal(r.status, 200, r.body);
      const echo = JSON.parse(r.body) as { app: string; port: number; url: string; headers: Record<string, string> };
      assert.equal(echo.port, port, `web:${port} was served by port ${echo.port}`);
      assert.equal(echo.url, `/port-check?p=${port}`);
      assert.equal(echo.headers['x-client-spiffe-id'], ID.client);
    }
    const g = await nsRun(pod('client').ns, [...NODE, join(projectRoot, 'test', 'e2e', 'k8s-pods', 'grpc-client.ts'), 'web:9090', tag], appOf('client'), 30_000);
    assert.equal(g.code, 0, g.stderr);
    const out = JSON.parse(g.stdout.trim().split('\n').pop()!) as { ok: { code: number; details: string; reply: { message: string; callerId: string } | null }; fail: { code: number } };
    assert.equal(out.ok.code, 0, out.ok.details);
    assert.deepEqual(out.ok.reply, { message: 'hello through the mesh', callerId: ID.client });
    assert.equal(out.fail.code, 5);
  });

  // ---- IPv6 ------------------------------------------------------------------------------------------------------
  await sub('(f) the same HTTP call to the pod\'s IPv6 (ULA) address is captured by ip6tables on both sides and carries the caller\'s identity', async () => {
    needs('client', 'web');
    const web6 = pod('web').ip6!;
    const cap: Capture = await startCapture({ name: 'tcpdump-ipv6', iface: net.bridge, filter: ['ip6', 'and', 'tcp', 'port', '8080'], file: join(dir, 'ipv6.pcap'), logFile: join(dir, 'tcpdump-ipv6.log'), teardown });
    try {
      const r = await podCurl(net, 'client', appOf('client'), ['http://web-v6:8080/over-ipv6']);
      assert.equal(r.exit, 0, r.stderr);
      assert.equal(r.status, 200, r.body);
      const echo = JSON.parse(r.body) as { port: number; url: string; headers: Record<string, string> };
      assert.equal(echo.port, 8080);
      assert.equal(echo.url, '/over-ipv6');
      assert.equal(echo.headers['x-client-spiffe-id'], ID.client);
      assert.match(echo.headers['x-forwarded-client-cert'] ?? '', new RegExp(`(^|;)URI=${ID.client.replaceAll('.', '\\.')}(;|$)`));
      // The mesh hop itself went over IPv6, to the pod's ULA address.
      const data = (l: string): boolean => /length [1-9]/.test(l);
      await cap.waitFor(`IPv6 data to and from ${web6}.8080`, (lines) => lines.some((l) => l.includes(`> ${web6}.8080:`) && data(l)) && lines.some((l) => l.includes(` ${web6}.8080 >`) && data(l)));
      assert.equal(notTls(cap.segments(), web6, 8080), undefined, 'the IPv6 mesh hop is not mTLS');
    } finally {
      await cap.stop();
    }
  });

  // ---- Egress ------------------------------------------------------------------------------------------------------
  await sub('(g) egress: an allowed TLS host outside the mesh is reached with the app\'s own TLS passed through; a host not allowed is refused and counted', async () => {
    needs('egress');
    const ca = join(dir, 'egress-ca.crt');
    // Control: the network path to both servers works for the sidecar's uid (never redirected),
    // so the refusal below is the sidecar's decision, not a missing route.
    for (const host of [ALLOWED, DENIED]) {
      const c = await podCurl(net, 'egress', as(UID.egress), ['--cacert', ca, `https://${host}/`]);
      assert.equal(c.status, 200, `control ${host}: ${c.stderr}`);
    }
    const before = await scrape(pod('egress'));
    const ok = await podCurl(net, 'egress', appOf('egress'), ['--cacert', ca, `https://${ALLOWED}/`]);
    assert.equal(ok.exit, 0, ok.stderr);
    assert.equal(ok.status, 200, ok.body);
    // curl verified the origin's own certificate for allowed.test: a sidecar that terminated TLS could not have.
    assert.deepEqual(JSON.parse(ok.body), { server: ALLOWED, sni: ALLOWED });
    const no = await podCurl(net, 'egress', appOf('egress'), ['--cacert', ca, `https://${DENIED}/`]);
    assert.notEqual(no.exit, 0, `denied.test answered: ${no.status} ${no.body}`);
    assert.notEqual(no.exit, 28, `denied.test timed out instead of being refused: ${no.stderr}`);
    assert.doesNotMatch(no.body, /"server"/);
    const after = await scrape(pod('egress'));
    const delta = (want: Record<string, string>): number => total(after, 'sidecar_egress_decisions_total', want) - total(before, 'sidecar_egress_decisions_total', want);
    assert.ok(delta({ decision: 'allow', protocol: 'tls', reason: 'host' }) >= 1, 'the allowed TLS connection was not counted');
    assert.ok(delta({ decision: 'deny', protocol: 'tls' }) >= 1, 'the refused TLS connection was not counted');
    const logged = jsonLines(sidecars.get('egress')!).some((l) => l['msg'] === 'egress denied' && l['sni'] === DENIED);
    assert.ok(logged, 'no "egress denied" log line naming the SNI');
  });

  await sub('(h) a pod without an egress allow-list reaches nothing outside the mesh (default deny)', async () => {
    needs('client');
    const r = await podCurl(net, 'client', appOf('client'), ['--cacert', join(dir, 'egress-ca.crt'), `https://${ALLOWED}/`]);
    assert.notEqual(r.exit, 0, `allowed.test answered a pod without an allow-list: ${r.status} ${r.body}`);
    assert.notEqual(r.exit, 28, `timed out instead of being refused: ${r.stderr}`);
    const m = await scrape(pod('client'));
    assert.ok(total(m, 'sidecar_egress_decisions_total', { decision: 'deny', reason: 'no_rule' }) >= 1, 'the refusal was not counted');
  });

  // Sidecars that never became ready are a failure of the test, after the rows that could run did.
  assert.deepEqual([...down.keys()], [], 'every sidecar becomes ready');
});

/** A CA and one leaf per outside host name (SAN = the name), in `dir`, with openssl. */
async function makeEgressCerts(dir: string): Promise<void> {
  const ca = join(dir, 'egress-ca');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await mustRun(['openssl', 'req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '1', '-subj', '/CN=transparent-capture egress test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  for (const name of [ALLOWED, DENIED]) {
    await mustRun([
      'openssl', 'req', '-x509', ...ec, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`,
      '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-days', '1', '-subj', `/CN=${name}`,
      '-addext', `subjectAltName=DNS:${name}`, '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth',
    ]);
  }
  for (const f of ['egress-ca.crt', `${ALLOWED}.crt`, `${DENIED}.crt`]) chmodSync(join(dir, f), 0o644);
}

test('transparent-capture teardown leaves no namespace, link, /etc/netns entry, iptables or ip6tables rule or process behind', (t) => {
  assertNoLeftovers(t, record, 'transparent-capture');
});
