/**
 * The end-user token of the JWT rows: an RS256 RFC 9068-style access token
 * and the JWKS file the server-side sidecar verifies it with (a keysFile
 * provider, so no issuer runs during the benchmark and the row measures the
 * sidecar's verified-token path, not an issuer).
 */
import { createSign, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './bench-context.ts';

/** Issuer and audience the server config accepts. */
export const BENCH_ISSUER = 'https://issuer.bench.test';
export const BENCH_AUDIENCE = 'bench-server';

/** The token and where its key is. */
export interface BenchToken {
  readonly keysFile: string;
  readonly token: string;
}

const made = new Map<string, BenchToken>();

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

/** The run's token (one per benchmark directory), valid for a day. */
export function benchToken(ctx: BenchContext): BenchToken {
  const known = made.get(ctx.dir);
  if (known !== undefined) return known;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as JsonWebKey;
  const keysFile = join(ctx.dir, 'bench-jwks.json');
  writeFileSync(keysFile, JSON.stringify({ keys: [{ ...jwk, kid: 'bench', alg: 'RS256', use: 'sig' }] }));
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'RS256', typ: 'at+jwt', kid: 'bench' })}.${b64({
    iss: BENCH_ISSUER,
    sub: 'bench-user',
    aud: BENCH_AUDIENCE,
    client_id: 'bench-client',
    scope: 'bench:read',
    iat: now,
    exp: now + 86_400,
  })}`;
  const signature = createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
  const t = { keysFile, token: `${input}.${signature}` };
  made.set(ctx.dir, t);
  return t;
}
