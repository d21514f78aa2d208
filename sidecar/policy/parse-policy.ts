import { quoteUntrusted } from '../spiffe/index.ts';
import type { RuleDocument } from './compiled-rule.ts';
import { DocumentReader, describeValue, isObject, typeName } from './document-reader.ts';
import type { FromEntry } from './from-entry-matcher.ts';
import { PolicyError } from './policy-error.ts';
import { policyFromValidatedDocument, type Policy, type PolicyContext, type PolicyDocument } from './policy.ts';
import { readFromEntry } from './read-from-entry.ts';
import { readRequestEntry } from './read-request-entry.ts';
import { readSpiffeSelector } from './read-spiffe-selector.ts';
import { MAX_TRUSTED_HOPS, type RemoteAddressDocument } from './remote-address.ts';
import type { RequestEntry } from './request-matcher.ts';

/** The newest document version this sidecar reads (it reads every version in {@link POLICY_VERSIONS}). */
export const POLICY_VERSION = 2;

/** Every document version this sidecar reads. */
export const POLICY_VERSIONS: readonly number[] = Object.freeze([1, 2]);

/** Options of {@link parsePolicy}. */
export interface ParsePolicyOptions {
  /**
   * 'tcp' for a policy guarding TCP tunnels: keys that look at an HTTP
   * request (`to`, `principals`, `clients`, `claims`, `remoteIpBlocks`,
   * `remoteAddress`) are refused, since a connection has none of it and such
   * a rule could never match. Default 'http'.
   */
  readonly context?: PolicyContext;
}

/** Rule names appear in decisions, logs and metric labels: short, and nothing to escape. */
const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const DOCUMENT_V1 = ['version', 'rules'] as const;
const DOCUMENT_V2 = ['version', 'rules', 'remoteAddress'] as const;
const RULE_V1 = ['name', 'from', 'to'] as const;
const RULE_V2 = ['name', 'action', 'dryRun', 'from', 'to'] as const;
const REMOTE_ADDRESS_KEYS = ['trustedCallers', 'trustedHops'] as const;

/**
 * Validates a policy document (already parsed from YAML or JSON by the
 * caller) and compiles it. Pure. Every problem is collected and reported in
 * one {@link PolicyError} with code 'policy.invalid', each line starting with
 * its location (`rules[2].from[0].id: ...`). `source` names the document in
 * the message. The format is described in docs/policy.md.
 */
export function parsePolicy(input: unknown, source: string, options: ParsePolicyOptions = {}): Policy {
  const context = options.context ?? 'http';
  const r = new DocumentReader({ version: versionOf(input), context });
  const doc = readDocument(input, r);
  if (r.problems.length > 0) throw new PolicyError('policy.invalid', source, r.problems);
  return policyFromValidatedDocument(source, doc, context);
}

/** The version to read the document as; unsupported or missing versions read as the newest, to report the rest. */
function versionOf(input: unknown): 1 | 2 {
  return isObject(input) && input['version'] === 1 ? 1 : 2;
}

function readDocument(input: unknown, r: DocumentReader): PolicyDocument {
  const version = r.version;
  if (!isObject(input)) {
    r.add(`(document): expected an object with "version" and "rules", got ${typeName(input)}`);
    return { version, rules: [] };
  }
  r.keys(input, '', DOCUMENT_V1, DOCUMENT_V2);
  if (!Object.hasOwn(input, 'version')) {
    r.add(`version: required; write "version: ${POLICY_VERSION}" (or "version: 1" for the original format)`);
  } else if (!POLICY_VERSIONS.includes(input['version'] as number)) {
    r.add(`version: unsupported version ${describeValue(input['version'])}; this sidecar reads versions ${POLICY_VERSIONS.join(' and ')}`);
  }
  let remoteAddress: RemoteAddressDocument | undefined;
  const hasRemoteAddress = version === 2 && Object.hasOwn(input, 'remoteAddress');
  if (hasRemoteAddress && !r.refuseForTcp(input, 'remoteAddress', '', 'forwarding headers')) {
    remoteAddress = readRemoteAddress(input['remoteAddress'], 'remoteAddress', r);
  }
  if (!Object.hasOwn(input, 'rules')) {
    r.add('rules: required (a list of rules; an empty list denies everything)');
    return { version, rules: [] };
  }
  const rawRules = input['rules'];
  if (!Array.isArray(rawRules)) {
    r.add(`rules: expected a list, got ${typeName(rawRules)}`);
    return { version, rules: [] };
  }
  const rules: RuleDocument[] = [];
  const firstUse = new Map<string, string>();
  rawRules.forEach((raw: unknown, i) => {
    const at = `rules[${i}]`;
    const rule = readRule(raw, at, r, hasRemoteAddress);
    if (rule === undefined) return;
    const earlier = firstUse.get(rule.name);
    if (earlier !== undefined) {
      r.add(`${at}.name: duplicate rule name ${quoteUntrusted(rule.name)} (first used at ${earlier})`);
    } else {
      firstUse.set(rule.name, at);
    }
    rules.push(rule);
  });
  return remoteAddress === undefined ? { version, rules } : { version, rules, remoteAddress };
}

/** Returns the rule when its name is usable (to check duplicates); other problems are only recorded. */
function readRule(raw: unknown, at: string, r: DocumentReader, hasRemoteAddress: boolean): RuleDocument | undefined {
  if (!isObject(raw)) {
    r.add(`${at}: expected a rule object with "name" and "from", got ${typeName(raw)}`);
    return undefined;
  }
  r.keys(raw, at, RULE_V1, RULE_V2);
  const name = readRuleName(raw, at, r);
  const { deny, dryRun } = readRuleEffect(raw, at, r);
  const from = readRuleFrom(raw, at, r, deny, hasRemoteAddress);
  const to = readRuleTo(raw, at, r);
  if (name === undefined) return undefined;
  return {
    name,
    ...(deny ? { action: 'deny' as const } : {}),
    ...(dryRun ? { dryRun: true as const } : {}),
    from,
    ...(to === undefined ? {} : { to }),
  };
}

function readRuleName(raw: Record<string, unknown>, at: string, r: DocumentReader): string | undefined {
  const rawName = raw['name'];
  if (!Object.hasOwn(raw, 'name')) r.add(`${at}.name: required`);
  else if (typeof rawName !== 'string') r.add(`${at}.name: expected a string, got ${typeName(rawName)}`);
  else if (!RULE_NAME.test(rawName)) {
    r.add(
      `${at}.name: ${quoteUntrusted(rawName)} is not a valid rule name ` +
        '(1-63 characters: letters, digits, ".", "_", "-"; starting with a letter or digit)',
    );
  } else return rawName;
  return undefined;
}

/** `action` and `dryRun`, keys of version 2 only: a version 1 rule allows and is never a dry run. */
function readRuleEffect(raw: Record<string, unknown>, at: string, r: DocumentReader): { deny: boolean; dryRun: boolean } {
  let deny = false;
  let dryRun = false;
  if (r.version === 2 && Object.hasOwn(raw, 'action')) {
    const a = raw['action'];
    if (a === 'deny') deny = true;
    else if (a !== 'allow') r.add(`${at}.action: expected "allow" or "deny", got ${typeName(a)}`);
  }
  if (r.version === 2 && Object.hasOwn(raw, 'dryRun')) {
    const d = raw['dryRun'];
    if (typeof d === 'boolean') dryRun = d;
    else r.add(`${at}.dryRun: expected true or false, got ${typeName(d)}`);
  }
  return { deny, dryRun };
}

function readRuleFrom(raw: Record<string, unknown>, at: string, r: DocumentReader, deny: boolean, hasRemoteAddress: boolean): FromEntry[] {
  const from: FromEntry[] = [];
  if (!Object.hasOwn(raw, 'from')) {
    r.add(`${at}.from: required (the callers this rule ${deny ? 'denies' : 'allows'})`);
    return from;
  }
  r.list(raw['from'], `${at}.from`, `the callers this rule ${deny ? 'denies' : 'allows'}`)?.forEach((e, j) => {
    const entry = readFromEntry(e, `${at}.from[${j}]`, r, { hasRemoteAddress });
    if (entry !== undefined) from.push(entry);
  });
  return from;
}

/** The request entries; undefined when `to` is absent (any request) or refused in a TCP policy. */
function readRuleTo(raw: Record<string, unknown>, at: string, r: DocumentReader): RequestEntry[] | undefined {
  if (!Object.hasOwn(raw, 'to') || r.refuseForTcp(raw, 'to', at, 'method or path')) return undefined;
  const to: RequestEntry[] = [];
  r.list(raw['to'], `${at}.to`, 'omit "to" to allow any request')?.forEach((e, j) => {
    const entry = readRequestEntry(e, `${at}.to[${j}]`, r);
    if (entry !== undefined) to.push(entry);
  });
  return to;
}

function readRemoteAddress(raw: unknown, at: string, r: DocumentReader): RemoteAddressDocument | undefined {
  if (!isObject(raw)) {
    r.add(`${at}: expected an object with trustedCallers and trustedHops, got ${typeName(raw)}`);
    return undefined;
  }
  r.keys(raw, at, REMOTE_ADDRESS_KEYS, REMOTE_ADDRESS_KEYS);
  const callers: string[] = [];
  if (!Object.hasOwn(raw, 'trustedCallers')) {
    r.add(`${at}.trustedCallers: required (SPIFFE IDs, or prefixes ending in "/*", of the edge proxies whose forwarding headers are believed)`);
  } else {
    r.list(raw['trustedCallers'], `${at}.trustedCallers`, 'name the edge proxies, or remove remoteAddress')?.forEach((v, i) => {
      const key = typeof v === 'string' && v.endsWith('/*') ? 'idPrefix' : 'id';
      const e = readSpiffeSelector(key, v, `${at}.trustedCallers[${i}]`, r);
      if (e !== undefined) callers.push('id' in e ? e.id : (e as { idPrefix: string }).idPrefix);
    });
  }
  const hops = raw['trustedHops'];
  let trustedHops = 0;
  if (!Object.hasOwn(raw, 'trustedHops')) {
    r.add(`${at}.trustedHops: required (1 when the edge proxy itself appends the client address; see docs/policy.md)`);
  } else if (typeof hops !== 'number' || !Number.isInteger(hops) || hops < 0 || hops > MAX_TRUSTED_HOPS) {
    r.add(`${at}.trustedHops: expected a whole number from 0 to ${MAX_TRUSTED_HOPS}, got ${typeName(hops)}`);
  } else {
    trustedHops = hops;
  }
  return { trustedCallers: callers, trustedHops };
}
