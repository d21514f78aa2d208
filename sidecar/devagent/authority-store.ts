import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describeError } from '../core/index.ts';
import type { TrustDomain } from '../spiffe/index.ts';
import { CertificateAuthority, type CertificateAuthorityOptions, type CertificateAuthorityState } from './ca.ts';
import { DevAgentError } from './dev-agent-error.ts';
import { JwtAuthority, type JwtAuthorityState, type JwtKeyType } from './jwt-authority.ts';

/** Layout version of a state file; a file of another version is refused, never guessed at. */
const FORMAT_VERSION = 1;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The two authorities of one trust domain. */
export interface TrustDomainAuthorities {
  readonly ca: CertificateAuthority;
  readonly jwt: JwtAuthority;
}

/** How the authorities loaded by {@link AuthorityStore.load} must be set up. */
export interface AuthorityLoadOptions {
  /** Options the CA runs with; its trust domain, key type and intermediate mode must match the file. */
  readonly ca: CertificateAuthorityOptions;
  readonly jwtKeyType: JwtKeyType;
}

/**
 * The dev agent's state directory: one file per trust domain,
 * `<trust domain>.authority.json`, with its CA (published roots, the
 * intermediate if any, the signing key) and its JWT key, so that a
 * restarted agent keeps the trust domain's authorities. A SPIRE agent
 * restart never changes them either: the CA belongs to the server.
 *
 * Whoever can write a state file chooses the trust domain's CA, and the
 * files hold private keys: the directory is created 0700 and refused when
 * another user owns it or group/others may write it; a file is refused
 * unless it is a regular file of this user readable by nobody else. Files
 * are written 0600 under a fresh name (O_EXCL, so never through something
 * already there) and renamed into place, so a crash never leaves half a
 * file. A file that is corrupt or does not fit the configuration is an
 * error naming it; it is never silently replaced. One agent per directory.
 */
export class AuthorityStore {
  /** The state directory (absolute). */
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Creates `dir` (mode 0700) when missing and checks that it is a private
   * directory of this user. Throws DevAgentError 'devagent.bad_state' or
   * 'devagent.state_unwritable'.
   */
  static async open(dir: string): Promise<AuthorityStore> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new DevAgentError('devagent.state_unwritable', `cannot create the state directory ${dir}: ${describeError(err)}`, { cause: err });
    }
    const st = await stat(dir);
    if (!st.isDirectory()) throw new DevAgentError('devagent.bad_state', `state directory ${dir} is not a directory`);
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw new DevAgentError('devagent.bad_state', `state directory ${dir} belongs to uid ${st.uid}, not to this user (uid ${uid})`);
    }
    if ((st.mode & 0o022) !== 0) {
      throw new DevAgentError(
        'devagent.bad_state',
        `state directory ${dir} is writable by group or others (mode ${octal(st.mode)}); anyone who can write it chooses the CA: chmod 700 it or use another directory`,
      );
    }
    return new AuthorityStore(dir);
  }

  /** The state file of `td`. */
  fileOf(td: TrustDomain): string {
    return join(this.dir, `${td.name}.authority.json`);
  }

  /**
   * Loads the authorities of `td`, or returns undefined when it has no
   * state file yet. Throws DevAgentError 'devagent.bad_state' naming the
   * file when it cannot be used. An expired CA is returned as it is.
   */
  async load(td: TrustDomain, opts: AuthorityLoadOptions): Promise<TrustDomainAuthorities | undefined> {
    const file = this.fileOf(td);
    const text = await readPrivateFile(file);
    if (text === undefined) return undefined;
    const state = decodeState(text, td, file);
    try {
      return { ca: CertificateAuthority.fromState(state.ca, opts.ca), jwt: JwtAuthority.fromState(td, state.jwt, opts.jwtKeyType) };
    } catch (err) {
      throw badFile(file, `cannot be used: ${describeError(err)}`, err);
    }
  }

  /** Writes the authorities of one trust domain (atomically, mode 0600). Throws DevAgentError 'devagent.state_unwritable'. */
  async save(a: TrustDomainAuthorities): Promise<void> {
    const file = this.fileOf(a.ca.trustDomain);
    const text = encodeState(a);
    const tmp = join(this.dir, `.${basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
    let fh: FileHandle | undefined;
    try {
      // O_CREAT|O_EXCL fails on anything already at the path, a symbolic link included.
      fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      // The umask can only take bits away; set exactly 0600 whatever it is.
      await fh.chmod(0o600);
      await fh.writeFile(text, 'utf8');
      await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, file);
    } catch (err) {
      await fh?.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw new DevAgentError('devagent.state_unwritable', `cannot write state file ${file}: ${describeError(err)}`, { cause: err });
    }
    await syncDirectory(this.dir);
  }
}

/** Reads a state file without following a symbolic link; undefined when it does not exist. */
async function readPrivateFile(file: string): Promise<string | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw badFile(file, 'is a symbolic link; refusing to follow it');
    throw badFile(file, `cannot be opened (${describeError(err)})`, err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw badFile(file, 'is not a regular file');
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw badFile(file, `belongs to uid ${st.uid}, not to this user (uid ${uid})`);
    if ((st.mode & 0o077) !== 0) {
      throw badFile(file, `has mode ${octal(st.mode)}, but it holds private keys and must be readable by its owner only (chmod 600)`);
    }
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename durable; best effort, as some file systems refuse to fsync a directory.
  try {
    const fh = await open(dir, constants.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // The file itself is complete either way.
  }
}

function encodeState(a: TrustDomainAuthorities): string {
  const ca = a.ca.exportState();
  const jwt = a.jwt.exportState();
  const b64 = (b: Buffer): string => b.toString('base64');
  const doc = {
    version: FORMAT_VERSION,
    trustDomain: a.ca.trustDomain.name,
    x509Authority: {
      roots: ca.rootsDer.map(b64),
      ...(ca.intermediateDer ? { intermediate: b64(ca.intermediateDer) } : {}),
      signingKey: b64(ca.signingKeyPkcs8Der),
    },
    jwtAuthority: { kid: jwt.kid, signingKey: b64(jwt.privateKeyPkcs8Der) },
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** Parses a state file's text; every shape problem is an error naming the file and the field. */
function decodeState(text: string, td: TrustDomain, file: string): { ca: CertificateAuthorityState; jwt: JwtAuthorityState } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw badFile(file, `is not valid JSON (${describeError(err)})`, err);
  }
  const object = (v: unknown, where: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badFile(file, `${where} is not an object`);
    return v as Record<string, unknown>;
  };
  const der = (v: unknown, where: string): Buffer => {
    if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64.test(v)) throw badFile(file, `${where} is not base64`);
    return Buffer.from(v, 'base64');
  };
  const top = object(doc, 'the document');
  if (top['version'] !== FORMAT_VERSION) {
    throw badFile(file, `has version ${JSON.stringify(top['version'])}; this agent reads version ${FORMAT_VERSION}`);
  }
  if (top['trustDomain'] !== td.name) throw badFile(file, `is for trust domain ${JSON.stringify(top['trustDomain'])}, not ${td.name}`);
  const x509 = object(top['x509Authority'], 'x509Authority');
  const roots = x509['roots'];
  if (!Array.isArray(roots) || roots.length === 0) throw badFile(file, 'x509Authority.roots is not a non-empty list');
  const jwt = object(top['jwtAuthority'], 'jwtAuthority');
  return {
    ca: {
      rootsDer: roots.map((r, i) => der(r, `x509Authority.roots[${i}]`)),
      ...(x509['intermediate'] !== undefined ? { intermediateDer: der(x509['intermediate'], 'x509Authority.intermediate') } : {}),
      signingKeyPkcs8Der: der(x509['signingKey'], 'x509Authority.signingKey'),
    },
    jwt: {
      kid: typeof jwt['kid'] === 'string' ? jwt['kid'] : '',
      privateKeyPkcs8Der: der(jwt['signingKey'], 'jwtAuthority.signingKey'),
    },
  };
}

function badFile(file: string, what: string, cause?: unknown): DevAgentError {
  return new DevAgentError('devagent.bad_state', `state file ${file} ${what}`, cause === undefined ? undefined : { cause });
}

function octal(mode: number): string {
  return '0' + (mode & 0o777).toString(8);
}
