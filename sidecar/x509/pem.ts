import { CertificateError } from './certificate-error.ts';

/** One PEM block (RFC 7468): its label and decoded bytes. */
export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

const BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Parses every PEM block in `text`, in order. Text between blocks is ignored
 * (tools such as openssl print comments there). A block that is unterminated,
 * carries RFC 1421 headers or has invalid base64 is an error naming its index.
 */
export function parsePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  BEGIN.lastIndex = 0;
  for (let m = BEGIN.exec(text); m !== null; m = BEGIN.exec(text)) {
    const label = m[1]!;
    const index = blocks.length;
    const endMarker = `-----END ${label}-----`;
    const bodyStart = m.index + m[0].length;
    const endAt = text.indexOf(endMarker, bodyStart);
    if (endAt < 0) throw badPem(index, `has no matching '${endMarker}'`);
    const body = text.slice(bodyStart, endAt);
    if (body.includes(':')) throw badPem(index, 'has encapsulated headers (encrypted PEM is not supported)');
    const b64 = body.replace(/\s+/g, '');
    if (!BASE64.test(b64) || b64.length % 4 !== 0) throw badPem(index, 'is not valid base64');
    const der = Buffer.from(b64, 'base64');
    if (der.length === 0) throw badPem(index, 'is empty');
    blocks.push({ label, der });
    BEGIN.lastIndex = endAt + endMarker.length;
  }
  return blocks;
}

/** Encodes DER bytes as one PEM block with 64-character lines and a trailing newline. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function badPem(index: number, what: string): CertificateError {
  return new CertificateError('certificate.malformed', `certificate: PEM block ${index} ${what}`, { index });
}
