import { SpiffeId, quoteUntrusted, type TrustDomain } from '../spiffe/index.ts';
import { JwtBundle, JwtBundleSet, X509Bundle, X509BundleSet } from '../bundle/index.ts';
import { parseX509Svid, type X509Svid } from '../svid/index.ts';
import { WorkloadApiError } from './workload-api-error.ts';
import type { JwtBundlesResponseMessage, X509BundlesResponseMessage, X509SvidResponseMessage } from './workload-messages.ts';
import { describeError } from '../core/index.ts';

/** One validated FetchX509SVID message: the caller's SVIDs and every X.509 bundle it may use. */
export interface X509Context {
  /** The SVIDs in server order, svids[0] being the default (spec §4.4); later duplicates of a hint removed. */
  readonly svids: readonly X509Svid[];
  /** Own trust domains (from each SVID's `bundle`) plus federated bundles. */
  readonly bundles: X509BundleSet;
}

function bad(method: string, problem: string, cause?: unknown): WorkloadApiError {
  return new WorkloadApiError('workload.bad_message', `${method}: invalid response: ${problem}`, { cause });
}

function causeText(err: unknown): string {
  return describeError(err);
}

/**
 * Reads a bundle-map key. The spec and SPIRE key bundle maps by the trust
 * domain's SPIFFE ID (`spiffe://example.org`); go-spiffe also takes a bare
 * name, but accepting two spellings would let one message carry two entries
 * for the same trust domain, so only the ID form passes here.
 */
function trustDomainFromKey(method: string, field: string, key: string): TrustDomain {
  let id: SpiffeId;
  try {
    id = SpiffeId.parse(key);
  } catch (err) {
    throw bad(method, `${field} key ${quoteUntrusted(key)} is not a trust-domain ID (expected spiffe://<trust domain>)`, err);
  }
  if (!id.isRoot()) {
    throw bad(method, `${field} key ${quoteUntrusted(key)} has a path; expected the trust-domain ID spiffe://${id.trustDomain.name}`);
  }
  return id.trustDomain;
}

function bundleFromDer(method: string, field: string, td: TrustDomain, der: Buffer): X509Bundle {
  try {
    return X509Bundle.fromDer(td, der);
  } catch (err) {
    throw bad(method, `${field} for trust domain ${td.name} is not a valid X.509 bundle: ${causeText(err)}`, err);
  }
}

/**
 * Validates one X509SVIDResponse and converts it to an {@link X509Context}.
 * The message is all or nothing: any bad SVID, key, bundle or map key
 * rejects it, so the caller keeps its previous state.
 */
export function parseX509SvidResponse(msg: X509SvidResponseMessage): X509Context {
  const method = 'FetchX509SVID';
  const list = Array.isArray(msg.svids) ? msg.svids : [];
  // Spec §4.4: the response carries at least one SVID; an agent with nothing
  // to give answers PermissionDenied instead.
  if (list.length === 0) throw bad(method, 'the response contains no SVIDs (at least one is required)');
  const svids: X509Svid[] = [];
  const seenHints = new Set<string>();
  const bundles = new Map<string, X509Bundle>();
  list.forEach((m, i) => {
    const where = `svids[${i}] (${quoteUntrusted(m.spiffe_id ?? '')})`;
    let svid: X509Svid;
    try {
      svid = parseX509Svid(m.x509_svid, m.x509_svid_key, m.hint ?? '');
    } catch (err) {
      throw bad(method, `${where}: ${causeText(err)}`, err);
    }
    // The spiffe_id field and the certificate must agree; a mismatch means a
    // confused or malicious server and neither value can be trusted.
    if (m.spiffe_id !== svid.id.toString()) {
      throw bad(method, `${where}: spiffe_id does not match the certificate's ID ${quoteUntrusted(svid.id.toString())}`);
    }
    const td = svid.id.trustDomain;
    const bundle = bundleFromDer(method, `${where} bundle`, td, m.bundle ?? Buffer.alloc(0));
    if (!bundles.has(td.name)) bundles.set(td.name, bundle);
    // Spec: clients keep the first SVID with a given hint; empty hints are never de-duplicated.
    if (m.hint) {
      if (seenHints.has(m.hint)) return;
      seenHints.add(m.hint);
    }
    svids.push(svid);
  });
  for (const [key, der] of Object.entries(msg.federated_bundles ?? {})) {
    const td = trustDomainFromKey(method, 'federated_bundles', key);
    const bundle = bundleFromDer(method, `federated_bundles[${key}]`, td, der);
    // The bundle delivered with the SVID wins: a federated entry must not
    // replace the trust anchors of the caller's own trust domain.
    if (!bundles.has(td.name)) bundles.set(td.name, bundle);
  }
  return { svids, bundles: X509BundleSet.of(bundles.values()) };
}

/** Validates one X509BundlesResponse: every key a trust-domain ID, every value DER certificates. */
export function parseX509BundlesResponse(msg: X509BundlesResponseMessage): X509BundleSet {
  const method = 'FetchX509Bundles';
  const out: X509Bundle[] = [];
  for (const [key, der] of Object.entries(msg.bundles ?? {})) {
    const td = trustDomainFromKey(method, 'bundles', key);
    out.push(bundleFromDer(method, `bundles[${key}]`, td, der));
  }
  return X509BundleSet.of(out);
}

/** Validates one JWTBundlesResponse: every key a trust-domain ID, every value a JWKS document. */
export function parseJwtBundlesResponse(msg: JwtBundlesResponseMessage): JwtBundleSet {
  const method = 'FetchJWTBundles';
  const out: JwtBundle[] = [];
  for (const [key, jwks] of Object.entries(msg.bundles ?? {})) {
    const td = trustDomainFromKey(method, 'bundles', key);
    try {
      out.push(JwtBundle.parse(td, jwks));
    } catch (err) {
      throw bad(method, `bundles[${key}] is not a valid JWKS: ${causeText(err)}`, err);
    }
  }
  return JwtBundleSet.of(out);
}
