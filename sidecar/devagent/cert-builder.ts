import { createHash, createPublicKey, generateKeyPair, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { AsnParser, AsnSerializer, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  NameConstraints,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
} from '@peculiar/asn1-x509';
import { OID, type CertificateInfo } from '../x509/index.ts';

/** Key algorithms the dev CA issues, named as SPIRE's `ca_key_type` values (SPIRE doc/spire_server.md). */
export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-4096';

/** A key pair as node KeyObjects. */
export interface KeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** node:crypto's key generation parameters of one KeyType. */
type KeySpec =
  | { readonly type: 'ec'; readonly options: { readonly namedCurve: string } }
  | { readonly type: 'rsa'; readonly options: { readonly modulusLength: number } };

const KEY_SPECS: Readonly<Record<KeyType, KeySpec>> = {
  'ec-p256': { type: 'ec', options: { namedCurve: 'P-256' } },
  'ec-p384': { type: 'ec', options: { namedCurve: 'P-384' } },
  'rsa-2048': { type: 'rsa', options: { modulusLength: 2048 } },
  'rsa-4096': { type: 'rsa', options: { modulusLength: 4096 } },
};

function keySpec(keyType: KeyType): KeySpec {
  // The type is checked at compile time only; a value from a file or a flag may be anything.
  if (!Object.hasOwn(KEY_SPECS, keyType)) throw new TypeError(`devagent: unknown key type ${String(keyType)}`);
  return KEY_SPECS[keyType];
}

/** Generates a key pair of the given type off the main thread (RSA-4096 takes a while). */
export async function generateKey(keyType: KeyType): Promise<KeyPair> {
  const spec = keySpec(keyType);
  return spec.type === 'ec' ? generateKeyPairAsync('ec', spec.options) : generateKeyPairAsync('rsa', spec.options);
}

/** {@link generateKey} on the calling thread, for the JWT authority's small keys and for tests. */
export function generateKeySync(keyType: KeyType): KeyPair {
  const spec = keySpec(keyType);
  return spec.type === 'ec' ? generateKeyPairSync('ec', spec.options) : generateKeyPairSync('rsa', spec.options);
}

/** The KeyType of `key`, or undefined when it is none of the supported ones (e.g. a key loaded from a state file). */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (d?.namedCurve === 'prime256v1') return 'ec-p256';
    if (d?.namedCurve === 'secp384r1') return 'ec-p384';
  }
  if (key.asymmetricKeyType === 'rsa') {
    if (d?.modulusLength === 2048) return 'rsa-2048';
    if (d?.modulusLength === 4096) return 'rsa-4096';
  }
  return undefined;
}

/** keyUsage bit names (RFC 5280 §4.2.1.3). */
export type KeyUsageBit = keyof typeof KeyUsageFlags;

/** One attribute of a distinguished name: a short name (C, O, OU, CN, serialNumber) or a dotted OID. */
export interface NameAttribute {
  readonly type: string;
  readonly value: string;
}

/** An extension given as raw DER, for extensions the builder has no knob for (e.g. an unknown critical one). */
export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** DER of the extension value (the content of extnValue). */
  readonly value: Uint8Array;
}

/**
 * Everything that goes into one certificate. Each optional extension is left
 * out when its field is absent, which is how tests make certificates that
 * break one rule at a time.
 */
export interface CertificateSpec {
  /** Subject attributes, one RDN each, in order. Default: empty subject. */
  readonly subject?: readonly NameAttribute[];
  /** Positive serial number bytes; default a random 128-bit serial. */
  readonly serialNumber?: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly uriSans?: readonly string[];
  readonly dnsSans?: readonly string[];
  /** Default: critical exactly when the subject is empty (RFC 5280 §4.2.1.6). */
  readonly subjectAltNameCritical?: boolean;
  /** basicConstraints; critical unless `critical: false`. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number; readonly critical?: boolean };
  /** keyUsage; critical unless `critical: false`. */
  readonly keyUsage?: { readonly usages: readonly KeyUsageBit[]; readonly critical?: boolean };
  /** extendedKeyUsage purposes (OIDs). */
  readonly extKeyUsage?: readonly string[];
  /** nameConstraints; critical unless `critical: false`. */
  readonly nameConstraints?: {
    readonly permittedUris?: readonly string[];
    readonly excludedUris?: readonly string[];
    readonly permittedDns?: readonly string[];
    readonly excludedDns?: readonly string[];
    readonly critical?: boolean;
  };
  /** Include subjectKeyIdentifier (SHA-1 of the public key, RFC 5280 §4.2.1.2 method 1). Default true. */
  readonly subjectKeyId?: boolean;
  /** Include authorityKeyIdentifier (the issuer's SKI). Default true. */
  readonly authorityKeyId?: boolean;
  readonly extraExtensions?: readonly RawExtension[];
}

/** The certificate and key that sign a new certificate. */
export interface CertificateIssuer {
  readonly certificate: CertificateInfo;
  readonly privateKey: KeyObject;
}

const NAME_OIDS: Readonly<Record<string, string>> = {
  C: OID.countryName,
  O: OID.organizationName,
  OU: '2.5.4.11',
  CN: OID.commonName,
  serialNumber: OID.serialNumber,
};

/**
 * Builds and signs one DER certificate for `subjectKey` (public or private;
 * only its public half goes in). With `issuer` the certificate is signed by
 * the issuer's key and names the issuer's subject; without it the
 * certificate is self-signed and `subjectKey` must be the private key.
 *
 * Signature algorithms: ECDSA with SHA-256/384/512 by curve size (DER
 * signatures), RSA PKCS#1 v1.5 with SHA-256, Ed25519.
 */
export function buildCertificate(spec: CertificateSpec, subjectKey: KeyObject, issuer?: CertificateIssuer): Buffer {
  const publicKey = subjectKey.type === 'private' ? createPublicKey(subjectKey) : subjectKey;
  if (!issuer && subjectKey.type !== 'private') throw new TypeError('devagent: a self-signed certificate needs the private key');
  const signingKey = issuer ? issuer.privateKey : subjectKey;
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  const spki = AsnParser.parse(spkiDer, SubjectPublicKeyInfo);
  const ski = createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();

  const subject = buildName(spec.subject ?? []);
  const issuerName = issuer ? AsnParser.parse(issuer.certificate.subjectDer, Name) : subject;
  const akiSource = issuer ? issuer.certificate.subjectKeyId : ski;

  const exts: Extension[] = [];
  const add = (oid: string, critical: boolean, value: unknown): void => {
    exts.push(new Extension({ extnID: oid, critical, extnValue: new OctetString(AsnSerializer.serialize(value)) }));
  };
  if (spec.keyUsage) {
    let bits = 0;
    for (const u of spec.keyUsage.usages) bits |= KeyUsageFlags[u];
    add(OID.keyUsage, spec.keyUsage.critical ?? true, new KeyUsage(bits));
  }
  if (spec.extKeyUsage) add(OID.extKeyUsage, false, new ExtendedKeyUsage([...spec.extKeyUsage]));
  if (spec.basicConstraints) {
    const bc = new BasicConstraints({ cA: spec.basicConstraints.ca });
    if (spec.basicConstraints.pathLen !== undefined) bc.pathLenConstraint = spec.basicConstraints.pathLen;
    add(OID.basicConstraints, spec.basicConstraints.critical ?? true, bc);
  }
  if (spec.subjectKeyId ?? true) add(OID.subjectKeyIdentifier, false, new SubjectKeyIdentifier(ski));
  if ((spec.authorityKeyId ?? true) && akiSource) {
    add(OID.authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(akiSource) }));
  }
  const sans = [
    ...(spec.uriSans ?? []).map((u) => new GeneralName({ uniformResourceIdentifier: u })),
    ...(spec.dnsSans ?? []).map((d) => new GeneralName({ dNSName: d })),
  ];
  if (sans.length > 0) {
    add(OID.subjectAltName, spec.subjectAltNameCritical ?? subject.length === 0, new SubjectAlternativeName(sans));
  }
  if (spec.nameConstraints) {
    const nc = spec.nameConstraints;
    const trees = (uris: readonly string[] = [], dns: readonly string[] = []): GeneralSubtrees | undefined => {
      const list = [
        ...uris.map((u) => new GeneralSubtree({ base: new GeneralName({ uniformResourceIdentifier: u }) })),
        ...dns.map((d) => new GeneralSubtree({ base: new GeneralName({ dNSName: d }) })),
      ];
      return list.length > 0 ? new GeneralSubtrees(list) : undefined;
    };
    const value = new NameConstraints();
    const permitted = trees(nc.permittedUris, nc.permittedDns);
    const excluded = trees(nc.excludedUris, nc.excludedDns);
    if (permitted) value.permittedSubtrees = permitted;
    if (excluded) value.excludedSubtrees = excluded;
    add(OID.nameConstraints, nc.critical ?? true, value);
  }
  for (const e of spec.extraExtensions ?? []) {
    exts.push(new Extension({ extnID: e.oid, critical: e.critical, extnValue: new OctetString(Buffer.from(e.value)) }));
  }

  const { algorithm, hash } = signatureAlgorithm(signingKey);
  const tbs = new TBSCertificate({
    version: 2, // v3
    serialNumber: toArrayBuffer(spec.serialNumber ?? randomSerial()),
    signature: algorithm,
    issuer: issuerName,
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject,
    subjectPublicKeyInfo: spki,
  });
  if (exts.length > 0) tbs.extensions = new Extensions(exts);
  const tbsDer = Buffer.from(AsnSerializer.serialize(tbs));
  const signature = sign(hash, tbsDer, { key: signingKey, dsaEncoding: 'der' });
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: algorithm, signatureValue: toArrayBuffer(signature) });
  return Buffer.from(AsnSerializer.serialize(cert));
}

/**
 * A random positive serial of up to 128 bits in minimal DER INTEGER form
 * (RFC 5280 §4.1.2.2: positive, at most 20 octets; SPIRE also uses 128 bits).
 */
export function randomSerial(): Buffer {
  for (;;) {
    let b = randomBytes(16);
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    b = b.subarray(i);
    if (b.length === 1 && b[0] === 0) continue;
    return b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : Buffer.from(b);
  }
}

function buildName(attrs: readonly NameAttribute[]): Name {
  return new Name(
    attrs.map((a) => {
      const type = NAME_OIDS[a.type] ?? a.type;
      if (!/^\d+(\.\d+)+$/.test(type)) throw new TypeError(`devagent: unknown name attribute ${a.type}`);
      // Country and serialNumber must be PrintableString (RFC 5280 App. A); other values use it when they can, as Go does.
      const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(a.value);
      const value = new AttributeValue(printable ? { printableString: a.value } : { utf8String: a.value });
      return new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value })]);
    }),
  );
}

function signatureAlgorithm(key: KeyObject): { algorithm: AlgorithmIdentifier; hash: string | null } {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return { algorithm: new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha384 }), hash: 'sha384' };
      if (curve === 'secp521r1') return { algorithm: new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha512 }), hash: 'sha512' };
      return { algorithm: new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 }), hash: 'sha256' };
    }
    case 'rsa':
      // RFC 4055 §5: the parameters of sha256WithRSAEncryption are an explicit NULL.
      return { algorithm: new AlgorithmIdentifier({ algorithm: OID.sha256WithRsa, parameters: null }), hash: 'sha256' };
    case 'ed25519':
      return { algorithm: new AlgorithmIdentifier({ algorithm: OID.ed25519 }), hash: null };
    default:
      throw new TypeError(`devagent: cannot sign with a ${String(key.asymmetricKeyType)} key`);
  }
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(b.byteLength);
  new Uint8Array(out).set(b);
  return out;
}
