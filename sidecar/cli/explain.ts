import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { deepFreeze } from '../core/index.ts';
import { forwardedFor } from '../enforcement/index.ts';
import { explain, PolicyError, type PolicyPrincipal, type PolicyRequest } from '../policy/index.ts';
import { SpiffeId } from '../spiffe/index.ts';
import { describeCliError, exitCodeFor, isSystemError, systemErrorReason } from './cli-error.ts';
import { EXIT_FAILURE, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { loadExplainPolicy, type ExplainPolicySource } from './explain-policy-source.ts';
import { explainJson, explainText } from './explain-report.ts';
import { UsageError, type Command } from './io.ts';
import { choiceFlag, parseFlags } from './parse-flags.ts';
import { countProblems, formatProblems, policyProblems } from './problem-report.ts';

const HELP = `usage: spiffe-sidecar explain (--policy FILE | --admin URL) --caller SPIFFE-ID
                              [--method METHOD] [--path PATH] [token and address options]

Explains how the inbound policy decides one request, as the sidecar would:
the decision and the rule that made it, the normalised path, what the
sidecar answers (the app, or 400/401/403 itself), dry-run outcomes, and for
every other rule which "from" key (id, idPrefix, trustDomain, principals,
clients, claims, ipBlocks, remoteIpBlocks) or "to" condition (methods,
paths, pathPrefixes, pathTemplates, templateBinding) did not match. It uses
the sidecar's own evaluation, so it cannot disagree with it. Without
--method and --path it explains a TCP connection.

policy (exactly one):
  --policy FILE          a policy file (docs/policy.md)
  --admin URL            a running sidecar's admin listener (http://127.0.0.1:15000):
                         its inbound policy in force, from /debug/policy (loopback only)

request:
  --caller SPIFFE-ID     the peer's SPIFFE ID, from its X509-SVID (required)
  --method METHOD        the HTTP method, case-sensitive (default GET when --path is given)
  --path PATH            the request-target as sent (/a/../b?q=1), normalised as the sidecar does
  --peer-address IP      the direct peer's address (for ipBlocks, and remoteAddress with trustedHops 0)
  --forwarded-for LIST   X-Forwarded-For as the request carried it (comma-separated; repeatable)

end-user token (any of them means a verified token was presented):
  --claims JSON          the token's claims as a JSON object
  --claims-file FILE     the same, read from a file
  --issuer ISS           iss (default: the "iss" claim; required with a token)
  --subject SUB          sub (default: the "sub" claim)
  --client-id ID         client_id (default: the "client_id" or "azp" claim)
  --scope SCOPE          scopes, space-separated; repeatable (default: the "scope" or "scp" claim)

  --output text|json     text (default) or one JSON document: {"decision","reason","rule","detail",
                         "status","answer","request","policy","dryRun","rules":[{"name","action",
                         "dryRun","matched","outcome","decided","why","from","to"}]}
  -h, --help             show this help

exit status: 0 allowed, 1 denied, 2 bad usage or no decision possible (the
policy cannot be loaded or fetched) (70 internal error, as for every command).
`;

const FLAGS = {
  policy: { type: 'string' },
  admin: { type: 'string' },
  caller: { type: 'string' },
  method: { type: 'string' },
  path: { type: 'string' },
  'peer-address': { type: 'string' },
  'forwarded-for': { type: 'string', multiple: true },
  claims: { type: 'string' },
  'claims-file': { type: 'string' },
  issuer: { type: 'string' },
  subject: { type: 'string' },
  'client-id': { type: 'string' },
  scope: { type: 'string', multiple: true },
  output: { type: 'string' },
} as const;

/** The token options of `explain`, as given. */
export interface TokenFlags {
  /** The claims object, already parsed. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
  readonly issuer?: string | undefined;
  readonly subject?: string | undefined;
  readonly clientId?: string | undefined;
  readonly scopes?: readonly string[] | undefined;
}

/**
 * The verified end user the options describe, built as `auth` builds it
 * from a token (sidecar/auth/jwt-claims.ts): subject from `sub`, client
 * from `client_id` else `azp`, scopes from `scope` split on spaces
 * (RFC 9068 §2.2.3) else `scp`. Flags override claims and are written back
 * into the claims, so claim conditions see the same values. Undefined when
 * no token option is given. Throws UsageError without an issuer.
 */
export function principalFrom(t: TokenFlags): PolicyPrincipal | undefined {
  if (t.claims === undefined && t.issuer === undefined && t.subject === undefined && t.clientId === undefined && t.scopes === undefined) return undefined;
  const c = t.claims ?? {};
  const str = (name: string): string | undefined => (typeof c[name] === 'string' ? (c[name] as string) : undefined);
  const issuer = t.issuer ?? str('iss');
  if (issuer === undefined || issuer === '') throw new UsageError('a token needs an issuer: give --issuer or an "iss" claim');
  const subject = t.subject ?? str('sub') ?? '';
  const clientId = t.clientId ?? str('client_id') ?? str('azp') ?? '';
  let scopes: readonly string[];
  if (t.scopes !== undefined) scopes = t.scopes.flatMap((s) => s.split(' ')).filter((s) => s !== '');
  else if (typeof c['scope'] === 'string') scopes = c['scope'].split(' ').filter((s) => s !== '');
  else if (Array.isArray(c['scp']) && c['scp'].every((s) => typeof s === 'string')) scopes = c['scp'] as string[];
  else scopes = [];
  const claims: Record<string, unknown> = { ...structuredClone(c), iss: issuer };
  if (t.subject !== undefined) claims['sub'] = t.subject;
  if (t.clientId !== undefined) claims['client_id'] = t.clientId;
  if (t.scopes !== undefined) claims['scope'] = scopes.join(' ');
  return deepFreeze({ issuer, subject, clientId, scopes: [...scopes], claims });
}

/** Parses `--claims` text: a JSON object, or a UsageError naming `flag`. */
export function parseClaims(text: string, flag: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag}: not JSON: ${describeCliError(err)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${flag}: expected a JSON object of claims`);
  return v as Record<string, unknown>;
}

/** The request options of `explain`, as given. */
export interface RequestFlags {
  readonly caller: string | undefined;
  readonly method?: string | undefined;
  readonly path?: string | undefined;
  readonly peerAddress?: string | undefined;
  readonly forwardedFor?: readonly string[] | undefined;
  readonly principal?: PolicyPrincipal | undefined;
}

/**
 * The PolicyRequest the options describe; UsageError for a missing or bad
 * caller, a method without a path, or addresses the sidecar would refuse.
 * `--forwarded-for` is read by the function the inbound proxy reads
 * X-Forwarded-For with.
 */
export function explainRequest(f: RequestFlags): PolicyRequest {
  if (f.caller === undefined) throw new UsageError('--caller SPIFFE-ID is required (the peer whose request to explain)');
  let peerId: SpiffeId;
  try {
    peerId = SpiffeId.parse(f.caller);
  } catch (err) {
    throw new UsageError(`--caller: ${describeCliError(err)}`);
  }
  if (f.method !== undefined && f.path === undefined) throw new UsageError('--method needs --path (leave both out to explain a TCP connection)');
  const method = f.path !== undefined ? (f.method ?? 'GET') : undefined;
  if (f.peerAddress !== undefined && isIP(f.peerAddress) === 0) throw new UsageError(`--peer-address: ${JSON.stringify(f.peerAddress)} is not an IP address`);
  let forwarded: readonly string[] | undefined;
  if (f.forwardedFor !== undefined) {
    const r = forwardedFor(f.forwardedFor.flatMap((v) => ['x-forwarded-for', v]));
    if (!r.ok) throw new UsageError(`--forwarded-for: ${r.problem}`);
    forwarded = r.addresses;
  }
  return {
    peerId,
    ...(method === undefined ? {} : { method }),
    ...(f.path === undefined ? {} : { path: f.path }),
    ...(f.peerAddress === undefined ? {} : { peerAddress: f.peerAddress }),
    ...(forwarded === undefined ? {} : { forwardedFor: forwarded }),
    ...(f.principal === undefined ? {} : { principal: f.principal }),
  };
}

/** Claims from `--claims-file`: a regular file of at most 1 MiB holding a JSON object. */
async function claimsFromFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new UsageError(`--claims-file: ${file} is not a regular file`);
    if (s.size > 1 << 20) throw new UsageError(`--claims-file: ${file} is larger than 1 MiB`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--claims-file: cannot read ${file}: ${isSystemError(err) ? systemErrorReason(err) : describeCliError(err)}`);
  }
  return parseClaims(text, `--claims-file ${file}`);
}

/**
 * `spiffe-sidecar explain`: exit 0 when the request is allowed, 1 when it
 * is denied, 2 for bad usage or when there is no policy to decide with
 * (a file that does not load, an admin endpoint that does not answer).
 */
export const explainCommand: Command = async (argv, io) => {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const output = choiceFlag('--output', values.output, ['text', 'json'], 'text');
  if ((values.policy === undefined) === (values.admin === undefined)) throw new UsageError('give exactly one of --policy FILE and --admin URL');
  if (values.claims !== undefined && values['claims-file'] !== undefined) throw new UsageError('give --claims or --claims-file, not both');
  const claims =
    values.claims !== undefined ? parseClaims(values.claims, '--claims') : values['claims-file'] !== undefined ? await claimsFromFile(values['claims-file']) : undefined;
  const principal = principalFrom({ claims, issuer: values.issuer, subject: values.subject, clientId: values['client-id'], scopes: values.scope });
  const request = explainRequest({
    caller: values.caller,
    method: values.method,
    path: values.path,
    peerAddress: values['peer-address'],
    forwardedFor: values['forwarded-for'],
    principal,
  });
  const source: ExplainPolicySource = values.policy !== undefined ? { file: values.policy } : { admin: values.admin! };
  let policy;
  try {
    policy = await loadExplainPolicy(source, io.stopSignal);
  } catch (err) {
    // No policy, no decision: exit 2 so that 1 always means "denied" to a script.
    if (err instanceof UsageError || exitCodeFor(err) === EXIT_INTERNAL) throw err;
    if (err instanceof PolicyError && 'file' in source) {
      const problems = policyProblems(err, source.file);
      io.stderr.write(`spiffe-sidecar explain: ${source.file} has ${countProblems(problems.length)}:\n${formatProblems(problems)}`);
    } else {
      io.stderr.write(`spiffe-sidecar explain: ${describeCliError(err)}\n`);
    }
    return EXIT_USAGE;
  }
  const e = explain(policy, request);
  io.stdout.write(output === 'json' ? explainJson(e, request, policy) : explainText(e, request, policy));
  return e.decision.allow ? EXIT_OK : EXIT_FAILURE;
};
