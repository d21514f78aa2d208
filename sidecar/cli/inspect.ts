import { readFile } from 'node:fs/promises';
import { X509Bundle, X509BundleSet } from '../bundle/index.ts';
import { describeError, SidecarError } from '../core/index.ts';
import { TrustDomain, type SpiffeId } from '../spiffe/index.ts';
import { parsePemCertificates, parseX509SvidCertificates, verifyX509SvidChain, type CertificateInfo } from '../svid/index.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { parseFlags } from './parse-flags.ts';

const USAGE = `usage: spiffe-sidecar inspect [--bundle [TRUST_DOMAIN=]BUNDLE.pem ...] [--at ISO-TIME] CHAIN.pem

Parses CHAIN.pem (leaf first) as an X509-SVID chain and, when bundles are
given, verifies it against the bundle of the chain's own trust domain.
A bare --bundle FILE is the bundle of that trust domain.

  --bundle  [TD=]FILE  trust bundle (PEM); repeatable
  --at      ISO-TIME   verify as of this time instead of now
  -h, --help           show this help

Exit status: 0 valid, 1 invalid or unreadable input, 2 bad usage.
`;

/**
 * `spiffe-sidecar inspect`: checks a certificate chain the way a peer would.
 * Prints the SPIFFE ID and a summary on success (exit 0); prints the failed
 * rule's code and message on failure (exit 1).
 */
export const inspectCommand: Command = async (argv: readonly string[], io: CliIo): Promise<number> => {
  const { values, positionals } = parseFlags(argv, { bundle: { type: 'string', multiple: true }, at: { type: 'string' } }, true);
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected exactly one CHAIN.pem argument, got ${positionals.length}`);
  const chainFile = positionals[0]!;
  const at = values.at === undefined ? undefined : parseTime(values.at);
  const bundleArgs = (values.bundle ?? []).map(parseBundleArg);

  const fail = (message: string): number => {
    io.stderr.write(`spiffe-sidecar inspect: ${message}\n`);
    return 1;
  };
  const chain = await readChain(chainFile);
  if ('failure' in chain) return fail(chain.failure);
  const bundles = await readBundles(bundleArgs, chain.id.trustDomain);
  if ('failure' in bundles) return fail(bundles.failure);
  const verified = verificationLine(chainFile, chain, bundles.bundles, at);
  if (typeof verified !== 'string') return fail(verified.failure);
  io.stdout.write([...chainSummary(chain), verified].join('\n') + '\n');
  return 0;
};

/** A chain read from its file and parsed as an X509-SVID. */
interface InspectedChain {
  readonly chainDer: Buffer[];
  readonly id: SpiffeId;
  readonly certificates: CertificateInfo[];
}

/** What went wrong, as the message after `spiffe-sidecar inspect: `. */
interface InspectFailure {
  readonly failure: string;
}

async function readChain(chainFile: string): Promise<InspectedChain | InspectFailure> {
  let chainDer: Buffer[];
  try {
    chainDer = parsePemCertificates(await readText(chainFile));
  } catch (err) {
    return { failure: `${chainFile}: ${describe(err)}` };
  }
  if (chainDer.length === 0) return { failure: `${chainFile}: no CERTIFICATE blocks found` };
  try {
    return { chainDer, ...parseX509SvidCertificates(chainDer) };
  } catch (err) {
    return { failure: `${chainFile}: invalid X509-SVID: ${describe(err)}` };
  }
}

/** The `--bundle` files; a bare file is the bundle of `chainDomain`, the chain's own trust domain. */
async function readBundles(args: readonly BundleArg[], chainDomain: TrustDomain): Promise<{ bundles: X509Bundle[] } | InspectFailure> {
  const bundles: X509Bundle[] = [];
  for (const b of args) {
    const td = b.trustDomain ?? chainDomain;
    try {
      bundles.push(X509Bundle.fromPem(td, await readText(b.file)));
    } catch (err) {
      return { failure: `${b.file}: ${describe(err)}` };
    }
  }
  return { bundles };
}

function chainSummary(chain: InspectedChain): string[] {
  const out: string[] = [chain.id.toString()];
  const leaf = chain.certificates[0]!;
  out.push(`  chain: ${chain.certificates.length} certificate(s), leaf first`);
  out.push(`  leaf valid: ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()}`);
  if (leaf.dnsSans.length > 0) out.push(`  dns names: ${leaf.dnsSans.join(', ')}`);
  return out;
}

/** The verdict line: verified against the chain's own trust domain's bundle at `at` (default now), or not verified for lack of bundles. */
function verificationLine(chainFile: string, chain: InspectedChain, bundles: readonly X509Bundle[], at: Date | undefined): string | InspectFailure {
  if (bundles.length === 0) return '  not verified: no --bundle given';
  const set = X509BundleSet.of(bundles);
  const when = at ?? new Date();
  try {
    const result = verifyX509SvidChain(chain.chainDer, set, { at: when });
    const own = set.get(chain.id.trustDomain)!;
    return `  verified: against bundle of "${chain.id.trustDomain.name}" (${own.authorities.length} authorities) at ${when.toISOString()}, path length ${result.verifiedChain.length}`;
  } catch (err) {
    return { failure: `${chainFile}: verification failed: ${describe(err)}` };
  }
}

function parseTime(text: string): Date {
  // Require a full ISO 8601 date-time with an explicit zone, so "--at 5" or a local time is not guessed at.
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) throw new UsageError(`--at: ${JSON.stringify(text)} is not an ISO 8601 time with a zone (e.g. 2025-01-31T12:00:00Z)`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  // Date.parse rolls 2030-02-31 over to March; reject fields out of range instead.
  const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const t = new Date(text);
  if (Number.isNaN(t.getTime()) || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new UsageError(`--at: ${JSON.stringify(text)} is not a valid time`);
  }
  return t;
}

/** A `--bundle` value: the file and, when given as `TD=FILE`, its trust domain. */
interface BundleArg {
  readonly trustDomain?: TrustDomain;
  readonly file: string;
}

/** `TD=FILE` when the part before the first '=' is a trust domain; otherwise the whole value is a file. */
function parseBundleArg(value: string): BundleArg {
  const eq = value.indexOf('=');
  if (eq > 0) {
    try {
      const trustDomain = TrustDomain.parse(value.slice(0, eq));
      const file = value.slice(eq + 1);
      if (file === '') throw new UsageError(`--bundle ${value}: missing file after '='`);
      return { trustDomain, file };
    } catch (err) {
      if (err instanceof UsageError) throw err;
    }
  }
  if (value === '') throw new UsageError('--bundle: empty file name');
  return { file: value };
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot read file: ${e.code ?? e.message}`, { cause: err });
  }
}

function describe(err: unknown): string {
  if (err instanceof SidecarError) return `${err.code}: ${err.message}`;
  return describeError(err);
}
