import { readFile } from 'node:fs/promises';
import { allPassed, CheckError, ENV_SOURCE, parseAdminUrl, readNatTable, runChecks, type CheckResult, type ConfigInput, type WebhookCertInput } from '../check/index.ts';
import { systemClock } from '../core/index.ts';
import { describeCliError, isSystemError, systemErrorReason } from './cli-error.ts';
import { durationFlag } from './duration-flag.ts';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';
import { UsageError, type Command } from './io.ts';
import { choiceFlag, parseFlags } from './parse-flags.ts';
import { lintPolicyFile } from './policy-lint.ts';
import { terminalSafe } from './problem-report.ts';
import { failureText } from './svid.ts';

const HELP = `usage: spiffe-sidecar check [--config FILE] [--admin URL] [--webhook-cert FILE] [--output text|json] [--timeout 5s]

Diagnoses a sidecar before start (pre-flight) or while it runs (live, with
--admin): the configuration and its policy files (the loaders run and
policy lint use), the Workload API, the SVID and its time to expiry, the
trust bundles and federated trust domains, clock skew against the SVID,
token providers' signing keys, the listeners, the pod's iptables redirect
rules (read-only; root in a pod only) and, with --webhook-cert, the
admission webhook's certificate. One line per check: ok, warn or fail,
with the fix under each warn and fail.

options:
  --config FILE        configuration file, as for run (default: the environment alone)
  --admin URL          a running sidecar's admin listener, e.g. http://127.0.0.1:15020:
                       its /readyz and listeners instead of trial binds
  --webhook-cert FILE  the webhook's PEM certificate: valid, and more than 30 days left
  --output text|json   text (default) or one JSON document:
                       {"ok":bool,"checks":[{"name","status","detail","fix"}]}
  --timeout DURATION   longest wait for each network step (default 5s)
  -h, --help           show this help

exit status: 0 no check failed (warnings pass), 1 a check failed,
2 bad usage (70 internal error, as for every command).
`;

const MARK: Readonly<Record<CheckResult['status'], string>> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

/** The text report: `STATUS NAME DETAIL`, the fix indented under warnings and failures, then a summary. */
export function checkText(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  let out = '';
  for (const r of results) {
    out += terminalSafe(`${MARK[r.status]}  ${r.name.padEnd(width)}  ${r.detail}`) + '\n';
    if (r.fix !== '') out += terminalSafe(`      ${''.padEnd(width)}  fix: ${r.fix}`) + '\n';
  }
  const count = (s: CheckResult['status']): number => results.filter((r) => r.status === s).length;
  out += `${results.length} checks: ${count('ok')} ok, ${count('warn')} warn, ${count('fail')} failed\n`;
  return out;
}

/** The `--output json` document. */
export function checkJson(results: readonly CheckResult[]): string {
  return `${JSON.stringify({ ok: allPassed(results), checks: results.map((r) => ({ name: r.name, status: r.status, detail: r.detail, fix: r.fix })) })}\n`;
}

/** Reads a file named by a flag; a failure is data for a check, not an exception. */
async function readNamed(file: string): Promise<{ text: string } | { readError: string }> {
  try {
    return { text: await readFile(file, 'utf8') };
  } catch (err) {
    return { readError: `cannot read: ${isSystemError(err) ? systemErrorReason(err) : describeCliError(err)}` };
  }
}

/** `spiffe-sidecar check`: runs every check, prints them, exit 1 when one failed. */
export const checkCommand: Command = async (argv, io) => {
  const v = parseFlags(argv, {
    config: { type: 'string' },
    admin: { type: 'string' },
    'webhook-cert': { type: 'string' },
    output: { type: 'string' },
    timeout: { type: 'string' },
  }).values;
  if (v.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const output = choiceFlag('--output', v.output, ['text', 'json'], 'text');
  const timeoutMs = v.timeout === undefined ? 5_000 : durationFlag('--timeout', v.timeout);
  let admin: URL | undefined;
  try {
    admin = v.admin === undefined ? undefined : parseAdminUrl(v.admin);
  } catch (err) {
    if (err instanceof CheckError) throw new UsageError(err.message.replace(/^check: /, ''));
    throw err;
  }
  let config: ConfigInput = { source: ENV_SOURCE, text: '' };
  if (v.config !== undefined) {
    const r = await readNamed(v.config);
    config = 'text' in r ? { source: v.config, text: r.text } : { source: v.config, readError: r.readError };
  }
  let webhookCert: WebhookCertInput | undefined;
  if (v['webhook-cert'] !== undefined) {
    const file = v['webhook-cert'];
    const r = await readNamed(file);
    webhookCert = 'text' in r ? { file, pem: r.text } : { file, readError: r.readError };
  }
  const results = await runChecks(
    { config, env: io.env, timeoutMs, ...(admin ? { admin } : {}), ...(webhookCert ? { webhookCert } : {}) },
    {
      clock: systemClock,
      lintPolicy: lintPolicyFile,
      natTable: () => readNatTable({ env: io.env, uid: process.getuid?.() }),
      describeWorkloadFailure: failureText,
    },
  );
  io.stdout.write(output === 'json' ? checkJson(results) : checkText(results));
  return allPassed(results) ? EXIT_OK : EXIT_FAILURE;
};
