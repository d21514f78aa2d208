import { X509Certificate, type KeyObject } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  NameConstraints,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  type GeneralName,
  type GeneralSubtrees,
} from '@peculiar/asn1-x509';
import { CertificateError } from './certificate-error.ts';
import { readDerElement } from './der-element.ts';
import { OID } from './oid.ts';
import { parsePemBlocks } from './pem.ts';

/** The keyUsage extension (RFC 5280 §4.2.1.3): the bits SPIFFE rules look at, and its criticality. */
export interface KeyUsageInfo {
  readonly critical: boolean;
  readonly digitalSignature: boolean;
  readonly keyEncipherment: boolean;
  readonly keyAgreement: boolean;
  readonly keyCertSign: boolean;
  readonly cRLSign: boolean;
}

/** One name-constraint subtree (RFC 5280 §4.2.1.10), reduced to its form and base value. */
export interface GeneralSubtreeInfo {
  readonly type: 'uri' | 'dns' | 'ip' | 'email' | 'directoryName' | 'other';
  /** The base as text for `uri`, `dns` and `email`; '' for forms this project does not evaluate. */
  readonly value: string;
}

/** The nameConstraints extension, split into permitted and excluded subtrees. */
export interface NameConstraintsInfo {
  readonly critical: boolean;
  readonly permitted: readonly GeneralSubtreeInfo[];
  readonly excluded: readonly GeneralSubtreeInfo[];
}

/**
 * What this project needs to know about one certificate, decoded once.
 *
 * node:crypto's X509Certificate gives signature checks and the public key;
 * the ASN.1 decode adds what node does not expose: keyUsage bits and the
 * criticality of every extension, name constraints, SKI/AKI and the exact
 * issuer/subject bytes used for path building.
 */
export interface CertificateInfo {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  /** The subject public key, extracted once (signature checks run on every handshake). */
  readonly publicKey: KeyObject;
  /** The subject in node's text form, for messages only. */
  readonly subject: string;
  /** Exact DER of the subject Name. */
  readonly subjectDer: Buffer;
  /** Exact DER of the issuer Name. */
  readonly issuerDer: Buffer;
  /** Serial number in upper-case hex. */
  readonly serialNumber: string;
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** True when the certificate has a subjectAltName extension with any IP address entry. */
  readonly hasIpSans: boolean;
  /** True when the certificate has an rfc822Name (email) SAN. */
  readonly hasEmailSans: boolean;
  /** True when the certificate has a subjectAltName extension and it is critical. */
  readonly subjectAltNameCritical: boolean;
  /** basicConstraints present with cA=true. */
  readonly isCa: boolean;
  readonly basicConstraintsPresent: boolean;
  /** pathLenConstraint when basicConstraints carries one. */
  readonly pathLen?: number;
  /** Absent when the certificate has no keyUsage extension. */
  readonly keyUsage?: KeyUsageInfo;
  /** extendedKeyUsage purposes (OIDs); absent when the extension is absent. */
  readonly extKeyUsage?: readonly string[];
  readonly nameConstraints?: NameConstraintsInfo;
  readonly subjectKeyId?: Buffer;
  readonly authorityKeyId?: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** OIDs of critical extensions this project does not process; a verifier must reject them (RFC 5280 §4.2). */
  readonly unhandledCriticalExtensions: readonly string[];
}

/** Extensions whose meaning the SPIFFE checks evaluate, so their criticality is honoured. */
const HANDLED = new Set<string>([
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.basicConstraints,
  OID.nameConstraints,
  OID.authorityKeyIdentifier,
  OID.extKeyUsage,
]);

/**
 * Decodes one DER certificate. Throws CertificateError 'certificate.malformed'
 * when the bytes are not exactly one certificate, when node or the ASN.1
 * decoder rejects it, when an extension appears twice (RFC 5280 §4.2) or when
 * an extension this project reads cannot be decoded.
 */
export function decodeCertificate(der: Uint8Array, index = 0): CertificateInfo {
  // `index` only labels error messages (the certificate's position in its chain or bundle).
  const bytes = Buffer.from(der);
  const outer = readDerElement(bytes, 0);
  if (typeof outer === 'string') throw malformed(index, outer);
  if (outer.tag !== 0x30) throw malformed(index, 'does not start with a SEQUENCE');
  if (outer.end !== bytes.length) throw malformed(index, `has ${bytes.length - outer.end} trailing bytes`);

  let x509: X509Certificate;
  try {
    // OpenSSL parses the whole certificate; the ASN.1 decoder below only reads the extensions.
    x509 = new X509Certificate(bytes);
  } catch (err) {
    throw malformed(index, 'cannot be decoded', err);
  }
  const parts = tbsParts(bytes, outer.contentStart);
  if (typeof parts === 'string') throw malformed(index, parts);
  let extensions: Extensions | undefined;
  if (parts.extensions) {
    try {
      extensions = AsnParser.parse(parts.extensions, Extensions);
    } catch (err) {
      throw malformed(index, 'has undecodable extensions', err);
    }
  }

  const info: MutableInfo = {
    der: bytes,
    x509,
    publicKey: x509.publicKey,
    subject: x509.subject,
    subjectDer: parts.subject,
    issuerDer: parts.issuer,
    serialNumber: x509.serialNumber.toUpperCase(),
    uriSans: [],
    dnsSans: [],
    hasIpSans: false,
    hasEmailSans: false,
    subjectAltNameCritical: false,
    isCa: false,
    basicConstraintsPresent: false,
    notBefore: x509.validFromDate,
    notAfter: x509.validToDate,
  };
  const unhandled: string[] = [];
  const seen = new Set<string>();
  for (const ext of extensions ?? []) {
    const oid = ext.extnID;
    if (seen.has(oid)) throw malformed(index, `has extension ${oid} more than once`);
    seen.add(oid);
    if (!HANDLED.has(oid)) {
      if (ext.critical) unhandled.push(oid);
      continue;
    }
    try {
      readExtension(info, oid, ext.critical, ext.extnValue.buffer);
    } catch (err) {
      throw malformed(index, `has an undecodable extension ${oid}`, err);
    }
  }
  info.unhandledCriticalExtensions = Object.freeze(unhandled);
  return Object.freeze(info) as CertificateInfo;
}

type MutableInfo = { -readonly [K in keyof CertificateInfo]?: CertificateInfo[K] };

function readExtension(info: MutableInfo, oid: string, critical: boolean, value: ArrayBuffer): void {
  switch (oid) {
    case OID.subjectAltName: {
      const uris: string[] = [];
      const dns: string[] = [];
      for (const n of AsnParser.parse(value, SubjectAlternativeName)) {
        if (n.uniformResourceIdentifier !== undefined) uris.push(n.uniformResourceIdentifier);
        else if (n.dNSName !== undefined) dns.push(n.dNSName);
        else if (n.iPAddress !== undefined) info.hasIpSans = true;
        else if (n.rfc822Name !== undefined) info.hasEmailSans = true;
      }
      info.uriSans = Object.freeze(uris);
      info.dnsSans = Object.freeze(dns);
      info.subjectAltNameCritical = critical;
      return;
    }
    case OID.basicConstraints: {
      const bc = AsnParser.parse(value, BasicConstraints);
      info.basicConstraintsPresent = true;
      info.isCa = bc.cA === true;
      if (bc.pathLenConstraint !== undefined) info.pathLen = bc.pathLenConstraint;
      return;
    }
    case OID.keyUsage: {
      const bits = AsnParser.parse(value, KeyUsage).toNumber();
      info.keyUsage = Object.freeze({
        critical,
        digitalSignature: (bits & KeyUsageFlags.digitalSignature) !== 0,
        keyEncipherment: (bits & KeyUsageFlags.keyEncipherment) !== 0,
        keyAgreement: (bits & KeyUsageFlags.keyAgreement) !== 0,
        keyCertSign: (bits & KeyUsageFlags.keyCertSign) !== 0,
        cRLSign: (bits & KeyUsageFlags.cRLSign) !== 0,
      });
      return;
    }
    case OID.extKeyUsage:
      info.extKeyUsage = Object.freeze([...AsnParser.parse(value, ExtendedKeyUsage)]);
      return;
    case OID.nameConstraints: {
      const nc = AsnParser.parse(value, NameConstraints);
      info.nameConstraints = Object.freeze({
        critical,
        permitted: subtrees(nc.permittedSubtrees),
        excluded: subtrees(nc.excludedSubtrees),
      });
      return;
    }
    case OID.subjectKeyIdentifier:
      info.subjectKeyId = Buffer.from(AsnParser.parse(value, SubjectKeyIdentifier).buffer);
      return;
    case OID.authorityKeyIdentifier: {
      const aki = AsnParser.parse(value, AuthorityKeyIdentifier);
      if (aki.keyIdentifier) info.authorityKeyId = Buffer.from(aki.keyIdentifier.buffer);
      return;
    }
  }
}

function subtrees(list: GeneralSubtrees | undefined): readonly GeneralSubtreeInfo[] {
  return Object.freeze(Array.from(list ?? [], (s) => Object.freeze(subtreeOf(s.base))));
}

function subtreeOf(n: GeneralName): GeneralSubtreeInfo {
  if (n.uniformResourceIdentifier !== undefined) return { type: 'uri', value: n.uniformResourceIdentifier };
  if (n.dNSName !== undefined) return { type: 'dns', value: n.dNSName };
  if (n.rfc822Name !== undefined) return { type: 'email', value: n.rfc822Name };
  if (n.iPAddress !== undefined) return { type: 'ip', value: '' };
  if (n.directoryName !== undefined) return { type: 'directoryName', value: '' };
  return { type: 'other', value: '' };
}

/**
 * Finds the issuer and subject Names (as their exact bytes) and the DER of
 * the Extensions inside the TBSCertificate (RFC 5280 §4.1).
 */
function tbsParts(der: Buffer, certContentStart: number): { issuer: Buffer; subject: Buffer; extensions?: Buffer } | string {
  const tbs = readDerElement(der, certContentStart);
  if (typeof tbs === 'string' || tbs.tag !== 0x30) return 'has no TBSCertificate';
  // version [0] (optional), serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional [1] [2] [3]
  const fields: Buffer[] = [];
  let extensions: Buffer | undefined;
  let at = tbs.contentStart;
  while (at < tbs.end) {
    const el = readDerElement(der, at);
    if (typeof el === 'string') return `has a bad TBSCertificate (${el})`;
    if (el.tag === 0xa3) {
      // [3] EXPLICIT wraps the Extensions SEQUENCE.
      const inner = readDerElement(der, el.contentStart);
      if (typeof inner === 'string' || inner.tag !== 0x30 || inner.end !== el.end) return 'has a bad extensions field';
      extensions = der.subarray(inner.start, inner.end);
    } else if (!(fields.length === 0 && el.tag === 0xa0)) {
      fields.push(der.subarray(el.start, el.end));
    }
    at = el.end;
  }
  const issuer = fields[2];
  const subject = fields[4];
  if (issuer === undefined || subject === undefined) return 'has a truncated TBSCertificate';
  return extensions ? { issuer, subject, extensions } : { issuer, subject };
}

/**
 * Splits concatenated DER certificates (the Workload API's encoding for
 * chains and bundles) into one buffer each, without decoding them. Empty
 * input gives an empty list. Throws CertificateError naming the index of the
 * first element that is not a complete SEQUENCE.
 */
export function splitDerCertificates(concatenated: Uint8Array): Buffer[] {
  const bytes = Buffer.from(concatenated.buffer, concatenated.byteOffset, concatenated.byteLength);
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const el = readDerElement(bytes, at);
    if (typeof el === 'string') throw malformed(out.length, el);
    if (el.tag !== 0x30) throw malformed(out.length, 'does not start with a SEQUENCE');
    out.push(Buffer.from(bytes.subarray(el.start, el.end)));
    at = el.end;
  }
  return out;
}

/**
 * Returns the DER of every `CERTIFICATE` block in `pem`, in order. Other
 * block types are skipped (as go-spiffe v2 internal/pemutil/pem.go does). A block
 * whose content is not exactly one DER SEQUENCE is an error naming its index
 * among the certificates.
 */
export function parsePemCertificates(pem: string): Buffer[] {
  const out: Buffer[] = [];
  for (const block of parsePemBlocks(pem)) {
    if (block.label !== 'CERTIFICATE') continue;
    const el = readDerElement(block.der, 0);
    if (typeof el === 'string') throw malformed(out.length, el);
    if (el.tag !== 0x30 || el.end !== block.der.length) throw malformed(out.length, 'is not a single DER SEQUENCE');
    out.push(block.der);
  }
  return out;
}

function malformed(index: number, what: string, cause?: unknown): CertificateError {
  return new CertificateError('certificate.malformed', `certificate: certificate ${index} ${what}`, {
    index,
    ...(cause === undefined ? {} : { cause }),
  });
}
