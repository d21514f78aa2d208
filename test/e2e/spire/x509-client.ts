/**
 * A workload for the SPIRE e2e tests, run under a test uid: builds our
 * X509Source against the agent socket given as argv[2] and prints one JSON
 * line per event on stdout:
 *   {"event":"start","uid":1001}
 *   {"event":"log","level":"warn","msg":"...","code":"workload.no_identity"}   (watch errors while waiting)
 *   {"event":"ready"|"update","spiffeId":...,"verifiedId":...,"serial":...,"bundlePem":...}
 * It runs until SIGTERM. The reconnect backoff is capped at 2 s so a test
 * waiting for a new entry is not held up by a long retry delay.
 */
import type { Logger } from '../../../sidecar/core/index.ts';
import { verifyX509SvidChain } from '../../../sidecar/svid/index.ts';
import { X509Source } from '../../../sidecar/workload/index.ts';

const address = process.argv[2];
if (!address) {
  process.stderr.write('usage: x509-client.ts unix:///path/to/agent.sock\n');
  process.exit(2);
}

const print = (o: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

const logAt =
  (level: string) =>
  (obj: Record<string, unknown>, msg?: string): void => {
    print({ event: 'log', level, msg, ...(typeof obj['code'] === 'string' ? { code: obj['code'] } : {}) });
  };
const logger: Logger = {
  debug() {},
  info() {},
  warn: logAt('warn'),
  error: logAt('error'),
  child: () => logger,
};

print({ event: 'start', uid: process.getuid?.() });
const source = await X509Source.create({ address, logger, backoff: { initialMs: 250, maxMs: 2_000 }, timeoutMs: 120_000 });

function state(): Record<string, unknown> {
  const svid = source.getX509Svid();
  const bundles = source.bundles();
  // Each update is checked the way a peer would: chain against the bundle
  // of the SVID's own trust domain.
  const { id } = verifyX509SvidChain(
    svid.certificates.map((c) => c.der),
    bundles,
  );
  return {
    spiffeId: svid.id.toString(),
    verifiedId: id.toString(),
    serial: svid.certificates[0]!.serialNumber,
    notAfter: svid.notAfter.toISOString(),
    bundlePem: bundles.get(svid.id.trustDomain)?.toPem(),
  };
}

print({ event: 'ready', ...state() });
source.on('update', () => {
  try {
    print({ event: 'update', ...state() });
  } catch (err) {
    print({ event: 'update', error: err instanceof Error ? err.message : String(err) });
  }
});
process.on('SIGTERM', () => {
  source.close();
  process.exit(0);
});
