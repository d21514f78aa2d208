/**
 * Every metric the shipped Grafana dashboard and alerting rules query
 * (k8s/monitoring) exists in a live sidecar's /metrics: one real
 * `spiffe-sidecar run` process on the dev agent with inbound, outbound
 * (routed back to its own inbound) and an `auth` section with a keysFile
 * JWT provider, after a few requests through it. prom-client writes a
 * `# TYPE` line for every registered metric, so a name missing here is a
 * renamed or removed metric, not merely one without traffic.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevAgent } from '../../support/dev-agent-harness.ts';
import { jwks, publicJwk, signJwt } from '../../support/jwt-sign.ts';
import { eventually, freePorts, startSidecar, tempDir, viaOutbound, type TestSidecar } from '../../support/sidecar-harness.ts';
import { startEchoApp } from '../../support/app-fixtures.ts';
import { dashboardQueries, ruleQueries } from '../../support/monitoring-queries.ts';
import { exposedFamilies, familyOf, metricNames } from '../../support/promql-names.ts';
import { fileCleanup } from '../../support/file-cleanup.ts';

const ID = 'spiffe://example.org/workload';
const ISSUER = 'https://issuer.example.org';
const AUDIENCE = 'workload-api';

const cleanup = fileCleanup();

let sidecar: TestSidecar;
let outboundPort: number;
let token: string;

before(async () => {
  const agent = await startDevAgent({ cleanup, workloads: { workload: [ID] } });
  const app = await startEchoApp(cleanup);
  const dir = tempDir(cleanup);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keysFile = join(dir, 'jwks.json');
  writeFileSync(keysFile, jwks(publicJwk(publicKey, { kid: 'k1', alg: 'ES256', use: 'sig' })));
  const now = Math.floor(Date.now() / 1000);
  token = signJwt('ES256', privateKey, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: now, exp: now + 600 }, { kid: 'k1', typ: 'JWT' });
  const [inboundPort, out] = (await freePorts(2)) as [number, number];
  outboundPort = out;
  sidecar = await startSidecar({
    cleanup,
    dir,
    config: {
      spiffe: { endpointSocket: agent.address('workload') },
      inbound: { listen: `127.0.0.1:${inboundPort}`, app: `127.0.0.1:${app.port}` },
      // Back to its own inbound: one process exercises both directions.
      outbound: { listen: `127.0.0.1:${outboundPort}`, upstreams: [{ host: 'self', address: `127.0.0.1:${inboundPort}`, serverId: ID, token: 'forward' }] },
      auth: { jwt: [{ name: 'files', issuer: ISSUER, audiences: [AUDIENCE], keysFile }] },
    },
  });
});

test('requests through the sidecar: a valid token passes, a forged one is refused', async () => {
  const ok = await viaOutbound(outboundPort, '/hello', 'self', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200, ok.body);
  const forged = `${token.slice(0, token.lastIndexOf('.'))}.AAAA`;
  const refused = await viaOutbound(outboundPort, '/hello', 'self', { headers: { authorization: `Bearer ${forged}` } });
  assert.equal(refused.status, 401, refused.body);
});

test('every metric the dashboard and the alerting rules query is in /metrics', async () => {
  // Scrape once the token outcomes are counted, so the auth metrics have series, not only TYPE lines.
  const exposition = await eventually(async () => {
    const body = (await sidecar.admin('/metrics')).body;
    return /^sidecar_token_checks_total\{provider="files",result="valid"\} [1-9]/m.test(body) ? body : undefined;
  }, () => 'sidecar_token_checks_total{provider="files",result="valid"} never counted');
  const families = exposedFamilies(exposition);
  const queries = [...dashboardQueries(), ...ruleQueries()];
  assert.ok(queries.length > 30, `only ${queries.length} queries found`);
  const missing: string[] = [];
  let checked = 0;
  for (const q of queries) {
    for (const name of metricNames(q.expr)) {
      checked++;
      if (familyOf(name, families) === undefined) missing.push(`${q.where}: ${name}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked > queries.length, 'names were found in the queries');
});

test('the auth, SVID and traffic series the alerts watch carry samples', async () => {
  const body = (await sidecar.admin('/metrics')).body;
  const rows: [string, RegExp][] = [
    ['SVID expiry is a real time', /^sidecar_svid_expiry_timestamp_seconds [1-9]\d{9}/m],
    ['the Workload API is connected', /^sidecar_workload_api_connected 1$/m],
    ['requests by direction', /^sidecar_requests_total\{direction="outbound",.*\} [1-9]/m],
    ['authorization denies', /^sidecar_authz_decisions_total\{decision="deny",peer_spiffe_id="spiffe:\/\/example\.org\/workload"\} 1$/m],
    ['key-set age of the keysFile provider', /^sidecar_token_key_set_age_seconds\{provider="files"\} \d/m],
    ['key-set fetches', /^sidecar_token_key_fetches_total\{provider="files",result="ok"\} [1-9]/m],
    ['refusals by reason', /^sidecar_requests_refused_total\{reason="invalid_token"\} 1$/m],
    ['overflows pre-created at 0', /^sidecar_upstream_overflow_total\{direction="inbound",limit="caller"\} 0$/m],
  ];
  for (const [what, re] of rows) assert.match(body, re, what);
});
