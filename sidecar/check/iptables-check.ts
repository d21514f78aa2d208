import type { Config } from '../config/index.ts';
import { describeError } from '../core/index.ts';
import { CHAINS, DEFAULT_IPTABLES_OPTIONS, planIptables } from '../iptables/index.ts';
import { fail, ok, warn, type CheckResult } from './check-result.ts';

/** What could be learnt of the pod's nat table. */
export type NatTableInput =
  | { readonly kind: 'not-in-pod' }
  | { readonly kind: 'not-root' }
  | { readonly kind: 'unreadable'; readonly error: string }
  /** The output of `iptables -t nat -S`. */
  | { readonly kind: 'rules'; readonly text: string };

/** The parts of a nat table the sidecar's rules are judged by. */
interface NatFacts {
  readonly chains: Set<string>;
  /** `FROM>TO` for each jump into one of the project's chains. */
  readonly jumps: Set<string>;
  /** Chain → ports its REDIRECT rules send to. */
  readonly redirects: Map<string, Set<number>>;
  /** Chain → number of rules appended to it. */
  readonly ruleCounts: Map<string, number>;
}

const OURS: ReadonlySet<string> = new Set(Object.values(CHAINS));

/** Reads the facts from rule specifications (`-N X`, `-A X ... -j Y`), `-t nat` already removed. */
function natFacts(rules: readonly (readonly string[])[]): NatFacts {
  const facts: NatFacts = { chains: new Set(), jumps: new Set(), redirects: new Map(), ruleCounts: new Map() };
  for (const r of rules) {
    const [op, chain] = r;
    if (chain === undefined) continue;
    if (op === '-N') facts.chains.add(chain);
    if (op !== '-A') continue;
    facts.ruleCounts.set(chain, (facts.ruleCounts.get(chain) ?? 0) + 1);
    const target = r[r.indexOf('-j') + 1];
    if (target !== undefined && OURS.has(target)) facts.jumps.add(`${chain}>${target}`);
    const to = r.indexOf('--to-ports');
    if (target === 'REDIRECT' && to !== -1) {
      const ports = facts.redirects.get(chain) ?? new Set<number>();
      ports.add(Number(r[to + 1]));
      facts.redirects.set(chain, ports);
    }
  }
  return facts;
}

/** The rules `spiffe-sidecar iptables apply` would install for this configuration's ports. */
function plannedFacts(config: Config): NatFacts {
  const plan = planIptables({
    ...DEFAULT_IPTABLES_OPTIONS,
    inboundPort: config.inbound?.listen.port ?? DEFAULT_IPTABLES_OPTIONS.inboundPort,
    outboundPort: config.outbound?.listen.port ?? DEFAULT_IPTABLES_OPTIONS.outboundPort,
    adminPort: config.admin.listen.port,
  });
  return natFacts(plan.map((c) => c.slice(2)));
}

const FIX = "re-run the init container's 'spiffe-sidecar iptables apply' with the sidecar's ports (docs/kubernetes.md \"Traffic capture\"), or re-inject the pod";

/**
 * `iptables`: the pod's nat table holds the project's chains, the jumps
 * into them, and REDIRECTs to the ports this configuration listens on,
 * compared with what the planner (sidecar/iptables) would install.
 * Inbound or outbound capture switched off at install time (no rules in
 * that chain) is not a failure.
 */
export function checkIptables(input: NatTableInput, config: Config | undefined): CheckResult {
  const name = 'iptables';
  if (input.kind === 'not-in-pod') return warn(name, 'not in a Kubernetes pod (KUBERNETES_SERVICE_HOST unset): traffic capture not checked', 'run check inside the pod (kubectl exec) to check the redirect rules');
  if (input.kind === 'not-root') {
    return warn(name, 'not root: the nat table cannot be read from this container', "run 'iptables -t nat -S' from a debug container with NET_ADMIN (kubectl debug --profile=netadmin) or on the node with nsenter");
  }
  if (input.kind === 'unreadable') return warn(name, `cannot read the nat table: ${input.error}`, 'run check as root with NET_ADMIN, where the iptables binary is installed');
  if (config === undefined) return warn(name, 'not compared: no usable configuration', 'fix the config check first');
  const actual = natFacts(input.text.split('\n').map((l) => l.trim().split(/\s+/)));
  if (![...OURS].some((c) => actual.chains.has(c))) {
    return warn(name, 'no SPIFFE_SIDECAR_* chains: this pod\'s traffic is not captured', 'fine if the pod was injected without interception; otherwise check that the spiffe-sidecar-init container ran');
  }
  let expected: NatFacts;
  try {
    expected = plannedFacts(config);
  } catch (err) {
    return warn(name, `cannot plan rules for this configuration's ports: ${describeError(err)}`, 'inbound, outbound and admin listeners need distinct ports');
  }
  const inboundOn = (actual.ruleCounts.get(CHAINS.inbound) ?? 0) > 0;
  const outboundOn = (actual.ruleCounts.get(CHAINS.output) ?? 0) > 0;
  const wanted = (chain: string): boolean => (chain === CHAINS.inbound ? inboundOn : chain === CHAINS.output || chain === CHAINS.redirect ? outboundOn : true);
  const problems: string[] = [];
  for (const c of expected.chains) if (!actual.chains.has(c)) problems.push(`chain ${c} missing`);
  for (const j of expected.jumps) {
    const [from, to] = j.split('>') as [string, string];
    if (wanted(to) && !actual.jumps.has(j)) problems.push(`no jump from ${from} to ${to}`);
  }
  for (const [chain, ports] of expected.redirects) {
    if (!wanted(chain)) continue;
    const got = [...(actual.redirects.get(chain) ?? [])];
    const want = [...ports];
    if (got.length === 0) problems.push(`${chain} redirects nowhere (expected port ${want.join(', ')})`);
    else if (got.some((p) => !ports.has(p))) problems.push(`${chain} redirects to port ${got.join(', ')}, the sidecar listens on ${want.join(', ')}`);
  }
  if (problems.length > 0) return fail(name, problems.join('; '), FIX);
  const captured = [inboundOn ? 'inbound' : '', outboundOn ? 'outbound' : ''].filter(Boolean).join(' and ') || 'nothing';
  return ok(name, `redirect rules match the configuration (capturing ${captured})`);
}
