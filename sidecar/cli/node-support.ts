/**
 * The Node.js versions the CLI runs on. Kept equal to package.json
 * `engines.node` (test/unit/cli/node-support.test.ts compares them) so the
 * check needs no file read before it can answer.
 *
 * Why a check at all: below 22.18 Node cannot strip TypeScript types by
 * default, and the X.509 code relies on `X509Certificate.validFromDate`
 * (Node 22.10+); an older Node would fail later with a confusing TypeError.
 */
export const SUPPORTED_NODE_RANGE = '^22.18.0 || ^24.0.0 || ^26.0.0';

interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** `22.18.0`, `v24.1.2` or `26.0.0-pre` → its numeric part; undefined for anything else. */
function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

function compare(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * Reads a range of caret alternatives (`^A.B.C || ^D.E.F`), the only form
 * `engines.node` uses here; any other form is a programming error.
 */
function caretLowerBounds(range: string): Version[] {
  return range.split('||').map((part) => {
    const text = part.trim();
    const v = text.startsWith('^') ? parseVersion(text.slice(1)) : undefined;
    if (v === undefined || v.major === 0) throw new Error(`node-support: ${JSON.stringify(text)} is not a caret range such as ^24.0.0`);
    return v;
  });
}

/**
 * Tells whether `version` (as in `process.versions.node`) satisfies `range`:
 * some alternative `^A.B.C` has the same major and is not newer. A version
 * that does not parse is not supported.
 */
export function isSupportedNode(version: string, range: string = SUPPORTED_NODE_RANGE): boolean {
  const v = parseVersion(version);
  if (v === undefined) return false;
  return caretLowerBounds(range).some((low) => low.major === v.major && compare(v, low) >= 0);
}

/**
 * The message for an unsupported Node.js, naming the range needed and the
 * version and binary found; undefined when `version` is supported.
 */
export function unsupportedNodeMessage(version: string, execPath: string): string | undefined {
  if (isSupportedNode(version)) return undefined;
  return (
    `spiffe-sidecar: needs Node.js ${SUPPORTED_NODE_RANGE}, found ${version} (${execPath}).\n` +
    'In a source checkout, `npm ci` installs Node 24 into node_modules; `npx spiffe-sidecar` and the make targets use it.\n'
  );
}
