import { readFile, stat } from 'node:fs/promises';
import { allowAll, loadPolicyText, parsePolicy, PolicyError, sameTrustDomainPolicy, SAME_TRUST_DOMAIN_RULE, type Policy } from '../policy/index.ts';
import { TrustDomain } from '../spiffe/index.ts';
import { describeCliError, isSystemError, systemErrorReason } from './cli-error.ts';
import { ExplainError } from './explain-error.ts';
import { UsageError } from './io.ts';

/** Where `explain` reads the policy: a file, or a running sidecar's admin listener. */
export type ExplainPolicySource = { readonly file: string } | { readonly admin: string };

/** Policy files and debug answers are small; anything larger is refused rather than read without bound. */
const MAX_POLICY_BYTES = 4 << 20;
/** How long the admin listener may take to answer. */
const ADMIN_TIMEOUT_MS = 5_000;

/**
 * Loads the policy to explain: a file with the loader `run` uses (so a
 * PolicyError carries the same problems `policy lint` prints), or the
 * inbound policy a running sidecar serves at `/debug/policy`. Throws
 * ExplainError when it cannot be read, UsageError for a bad `--admin` URL.
 */
export async function loadExplainPolicy(source: ExplainPolicySource, signal: AbortSignal): Promise<Policy> {
  return 'file' in source ? policyFromFile(source.file) : policyFromAdmin(source.admin, signal);
}

async function policyFromFile(file: string): Promise<Policy> {
  let text: string;
  try {
    const s = await stat(file);
    // A FIFO or device would block or never end; a policy is a regular file.
    if (!s.isFile()) throw new ExplainError('explain.policy_unreadable', `explain: ${file} is not a regular file`);
    if (s.size > MAX_POLICY_BYTES) throw new ExplainError('explain.policy_unreadable', `explain: ${file} is larger than ${MAX_POLICY_BYTES} bytes`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ExplainError) throw err;
    const reason = isSystemError(err) ? systemErrorReason(err) : describeCliError(err);
    throw new ExplainError('explain.policy_unreadable', `explain: cannot read ${file}: ${reason}`, { cause: err });
  }
  return loadPolicyText(text, file);
}

/** The `/debug/policy` URL of an `--admin` value (http://HOST:PORT, optionally with a path prefix). */
export function debugPolicyUrl(admin: string): URL {
  let base: URL;
  try {
    base = new URL(admin);
  } catch {
    throw new UsageError(`--admin: ${JSON.stringify(admin)} is not a URL (write http://127.0.0.1:15000)`);
  }
  if (base.protocol !== 'http:') throw new UsageError(`--admin: the admin listener speaks plain http://, not ${base.protocol}`);
  if (base.username !== '' || base.password !== '' || base.search !== '' || base.hash !== '') {
    throw new UsageError('--admin: give scheme, host and port only (http://HOST:PORT)');
  }
  return new URL('debug/policy', base.href.endsWith('/') ? base : `${base.href}/`);
}

async function policyFromAdmin(admin: string, stop: AbortSignal): Promise<Policy> {
  const url = debugPolicyUrl(admin);
  const signal = AbortSignal.any([stop, AbortSignal.timeout(ADMIN_TIMEOUT_MS)]);
  let status: number;
  let body: string;
  try {
    const res = await fetch(url, { signal, redirect: 'error', headers: { accept: 'application/json' } });
    status = res.status;
    body = await boundedText(res);
  } catch (err) {
    throw new ExplainError('explain.admin_unreachable', `explain: cannot get ${url.href}: ${fetchFailure(err)}`, { cause: err });
  }
  if (status === 403) {
    throw new ExplainError(
      'explain.admin_refused',
      `explain: ${url.href} answered 403: debug endpoints answer loopback clients only; run explain on the sidecar's host (kubectl exec) or through kubectl port-forward`,
    );
  }
  if (status === 404) {
    throw new ExplainError('explain.admin_refused', `explain: ${url.href} answered 404: this sidecar has no HTTP inbound listener, or predates /debug/policy`);
  }
  if (status !== 200) throw new ExplainError('explain.admin_refused', `explain: ${url.href} answered ${status}: ${body.split('\n', 1)[0]!.slice(0, 200)}`);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new ExplainError('explain.admin_answer', `explain: ${url.href} did not answer JSON`, { cause: err });
  }
  return policyFromDescription(value, url.href);
}

/** The body as text, refused past {@link MAX_POLICY_BYTES}. */
async function boundedText(res: Response): Promise<string> {
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > MAX_POLICY_BYTES) throw new Error(`answer larger than ${MAX_POLICY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Why fetch failed, in this CLI's words (fetch wraps the system error in a TypeError). */
function fetchFailure(err: unknown): string {
  const e = err as { name?: unknown; cause?: unknown };
  if (e?.name === 'TimeoutError') return `no answer within ${ADMIN_TIMEOUT_MS} ms`;
  if (e?.name === 'AbortError') return 'stopped';
  if (isSystemError(e?.cause)) return systemErrorReason(e.cause);
  if (e?.cause instanceof Error) return e.cause.message;
  return describeCliError(err);
}

/**
 * Rebuilds a Policy from what `/debug/policy` serves (Policy.describe()):
 * the built-in allow-all and same-trust-domain policies by their markers,
 * any other through parsePolicy, as docs/policy.md "For code" describes.
 * Throws ExplainError 'explain.admin_answer' for anything else.
 */
export function policyFromDescription(value: unknown, source: string): Policy {
  const bad = (why: string, cause?: unknown): ExplainError =>
    new ExplainError('explain.admin_answer', `explain: ${source} is not a policy description: ${why}`, cause === undefined ? undefined : { cause });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('expected a JSON object');
  const d = value as Record<string, unknown>;
  if (d['allowAll'] === true) return allowAll;
  const rules = d['rules'];
  if (!Array.isArray(rules)) throw bad('"rules" is not a list');
  const first = rules[0] as { name?: unknown; from?: Array<{ trustDomain?: unknown }> } | undefined;
  if (d['version'] === undefined && rules.length === 1 && first?.name === SAME_TRUST_DOMAIN_RULE) {
    const td = first.from?.[0]?.trustDomain;
    if (typeof td !== 'string') throw bad('the same-trust-domain rule names no trust domain');
    try {
      return sameTrustDomainPolicy(TrustDomain.parse(td));
    } catch (err) {
      throw bad(describeCliError(err), err);
    }
  }
  const doc = { version: d['version'] ?? 1, ...(d['remoteAddress'] === undefined ? {} : { remoteAddress: d['remoteAddress'] }), rules };
  const where = typeof d['source'] === 'string' ? `${source} (${d['source']})` : source;
  try {
    return parsePolicy(doc, where);
  } catch (err) {
    if (err instanceof PolicyError) throw bad(`${err.problems.slice(0, 3).join('; ')} (is this sidecar another version?)`, err);
    throw err;
  }
}
