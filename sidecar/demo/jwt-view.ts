/**
 * A JWT as the demo shows it: the decoded header and claims, never the
 * token text and never the signature. Decoding is not verification: the
 * sidecars verified these tokens; the demo only reads what they said.
 */
export interface JwtView {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Decodes the JWT in `Bearer <jwt>`; undefined when the header is absent or holds no JWT (an opaque token). */
export function viewJwt(authorization: string | null): JwtView | undefined {
  const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/.exec(authorization ?? '');
  if (m === null) return undefined;
  const header = decodePart(m[1]!);
  const claims = decodePart(m[2]!);
  return header !== undefined && claims !== undefined ? { header, claims } : undefined;
}

/** The `sub` of each nested `act` (RFC 8693 §4.1), the most recent actor first. */
export function actorChain(claims: Readonly<Record<string, unknown>>): string[] {
  const chain: string[] = [];
  let act = claims['act'];
  // RFC 8693 §4.1 nests older actors inside `act`; the bound keeps a hostile token from looping long.
  while (act !== null && typeof act === 'object' && chain.length < 16) {
    const sub = (act as Record<string, unknown>)['sub'];
    chain.push(typeof sub === 'string' ? sub : '?');
    act = (act as Record<string, unknown>)['act'];
  }
  return chain;
}

/** One line: `sub`, `aud`, `scope`, the `act` chain and `client_id`; `shortId` shortens SPIFFE IDs in the chain. */
export function describeJwt(v: JwtView, shortId: (id: string) => string = (id) => id): string {
  const c = v.claims;
  const aud = [c['aud']].flat().map(String).join(' ');
  const chain = actorChain(c);
  const act = chain.length === 0 ? '(none)' : chain.map(shortId).join(' <- ');
  return `sub ${String(c['sub'])}, aud ${aud}, scope "${String(c['scope'] ?? '')}", act ${act}, client_id ${String(c['client_id'])}`;
}

/** `typ` and `alg` of the header, with the signature elided, for the line above the claims. */
export function describeJwtHeader(v: JwtView): string {
  return `JWT (typ ${String(v.header['typ'] ?? '-')}, ${String(v.header['alg'] ?? '-')}, signature elided)`;
}

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
