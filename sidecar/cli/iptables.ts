import {
  DEFAULT_IPTABLES_OPTIONS,
  applyIptables,
  cleanIptables,
  planIptables,
  planIptablesClean,
  validateIptablesOptions,
  type CommandRunner,
  type IptablesOptions,
} from '../iptables/index.ts';
import { parseCidrList, parsePort, parsePortList, parsePortsOrAll, type Parsed } from '../injector/index.ts';
import { existsSync } from 'node:fs';
import { UsageError, type Command } from './io.ts';
import { parseFlags } from './parse-flags.ts';
import { describeError } from '../core/index.ts';

const HELP = `usage: spiffe-sidecar iptables apply|clean|plan [options]

Installs (apply), removes (clean) or prints (plan) the nat rules that send a
pod's TCP traffic through the sidecar. Runs in the pod's network namespace as
root with NET_ADMIN and NET_RAW (the injected spiffe-sidecar-init container).
The same rules go to iptables and ip6tables: IPv6 is on unless --no-ipv6 is
given or the kernel has no IPv6 (no /proc/net/if_inet6), in which case there
is no IPv6 traffic to capture. apply is idempotent: it removes the project's
chains first.

options:
  --proxy-uid UID               the sidecar's uid, never redirected (default ${DEFAULT_IPTABLES_OPTIONS.proxyUid})
  --inbound-port PORT           inbound mTLS listener (default ${DEFAULT_IPTABLES_OPTIONS.inboundPort})
  --outbound-port PORT          outbound listener on 127.0.0.1 (default ${DEFAULT_IPTABLES_OPTIONS.outboundPort})
  --admin-port PORT             admin port, never redirected (default ${DEFAULT_IPTABLES_OPTIONS.adminPort})
  --inbound-ports LIST|*        app ports to capture, comma-separated; * = all TCP; empty = none (default *)
  --exclude-inbound-ports LIST  inbound ports never captured
  --no-outbound                 do not redirect outbound traffic
  --exclude-outbound-ports LIST destination ports reached directly
  --exclude-outbound-cidrs LIST IPv4 and IPv6 CIDRs reached directly
  --no-ipv6                     IPv4 rules only (IPv6 traffic then bypasses the sidecar)
  --iptables PATH               iptables binary (default iptables, Debian's nft backend)
  --ip6tables PATH              ip6tables binary (default ip6tables)
  --dry-run                     print the commands of apply or clean, run nothing
  -h, --help                    show this help
`;

const FLAGS = {
  'proxy-uid': { type: 'string' },
  'inbound-port': { type: 'string' },
  'outbound-port': { type: 'string' },
  'admin-port': { type: 'string' },
  'inbound-ports': { type: 'string' },
  'exclude-inbound-ports': { type: 'string' },
  'no-outbound': { type: 'boolean' },
  'exclude-outbound-ports': { type: 'string' },
  'exclude-outbound-cidrs': { type: 'string' },
  'no-ipv6': { type: 'boolean' },
  iptables: { type: 'string' },
  ip6tables: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

/** The parsed flag values of `iptables`. */
type IptablesFlags = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];

function flag<T>(name: string, value: string | undefined, parse: (s: string) => Parsed<T>, fallback: T): T {
  if (value === undefined) return fallback;
  const r = parse(value);
  if (!r.ok) throw new UsageError(`--${name}: ${r.message}`);
  return r.value;
}

/**
 * Turns the flags into validated options; every problem is a UsageError
 * naming its flag. `ipv6Available` says whether the kernel has IPv6.
 */
export function iptablesOptionsFromArgs(v: IptablesFlags, ipv6Available = true): IptablesOptions {
  const d = DEFAULT_IPTABLES_OPTIONS;
  const uid = (s: string): Parsed<number> =>
    /^[1-9][0-9]{0,9}$/.test(s) ? { ok: true, value: Number(s) } : { ok: false, message: `"${s}" is not a non-root uid` };
  const opts: IptablesOptions = {
    proxyUid: flag('proxy-uid', v['proxy-uid'], uid, d.proxyUid),
    inboundPort: flag('inbound-port', v['inbound-port'], parsePort, d.inboundPort),
    outboundPort: flag('outbound-port', v['outbound-port'], parsePort, d.outboundPort),
    adminPort: flag('admin-port', v['admin-port'], parsePort, d.adminPort),
    inboundPorts: flag('inbound-ports', v['inbound-ports'], parsePortsOrAll, d.inboundPorts),
    excludeInboundPorts: flag('exclude-inbound-ports', v['exclude-inbound-ports'], parsePortList, d.excludeInboundPorts),
    outbound: !v['no-outbound'],
    excludeOutboundPorts: flag('exclude-outbound-ports', v['exclude-outbound-ports'], parsePortList, d.excludeOutboundPorts),
    excludeOutboundCidrs: flag('exclude-outbound-cidrs', v['exclude-outbound-cidrs'], parseCidrList, d.excludeOutboundCidrs),
    ipv6: !v['no-ipv6'] && ipv6Available,
  };
  try {
    return validateIptablesOptions(opts);
  } catch (err) {
    throw new UsageError(describeError(err));
  }
}

/** Quotes an argument for display only (nothing here ever goes through a shell). */
function shown(arg: string): string {
  return /^[A-Za-z0-9_./:,=@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** True when the kernel has IPv6: it lists the IPv6 addresses of the namespace in this file. */
function kernelHasIpv6(): boolean {
  return existsSync('/proc/net/if_inet6');
}

/**
 * Builds the `iptables` command with an injectable runner (tests record the
 * calls) and IPv6 check.
 */
export function makeIptablesCommand(runner?: CommandRunner, ipv6Available: () => boolean = kernelHasIpv6): Command {
  return async (argv, io) => {
    const { values: v, positionals } = parseFlags(argv, FLAGS, true);
    if (v.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const [action, ...extra] = positionals;
    if (action === undefined) throw new UsageError('expected apply, clean or plan');
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    if (!['apply', 'clean', 'plan'].includes(action)) throw new UsageError(`unknown action ${action}: expected apply, clean or plan`);
    const hasIpv6 = ipv6Available();
    const opts = iptablesOptionsFromArgs(v, hasIpv6);
    const bin = v.iptables ?? 'iptables';
    const bin6 = v.ip6tables ?? 'ip6tables';
    const print = (cmds: readonly (readonly string[])[]): void => {
      for (const c of cmds) io.stdout.write(`${c.map(shown).join(' ')}\n`);
    };
    const families = (plan: (family: 4 | 6) => string[][]): string[][] => [
      ...plan(4).map((c) => [bin, ...c]),
      ...(opts.ipv6 ? plan(6).map((c) => [bin6, ...c]) : []),
    ];
    if (!opts.ipv6 && !v['no-ipv6']) io.stderr.write('spiffe-sidecar iptables: the kernel has no IPv6 (/proc/net/if_inet6); IPv4 rules only\n');
    if (action === 'plan' || (action === 'apply' && v['dry-run'])) {
      print(families((f) => planIptables(opts, f)));
      return 0;
    }
    if (action === 'clean' && v['dry-run']) {
      print(families(() => planIptablesClean()));
      return 0;
    }
    const run = { iptables: bin, ip6tables: bin6, ...(runner ? { runner } : {}) };
    if (action === 'clean') {
      const removed = await cleanIptables({ ...run, ipv6: opts.ipv6 });
      print(removed);
      io.stdout.write(`spiffe-sidecar iptables: removed ${removed.length === 0 ? 'nothing (no rules installed)' : 'the rules'}\n`);
      return 0;
    }
    const applied = await applyIptables(opts, run);
    print(applied);
    io.stdout.write(`spiffe-sidecar iptables: applied ${applied.length} commands\n`);
    return 0;
  };
}

/** `spiffe-sidecar iptables apply|clean|plan`. */
export const iptablesCommand: Command = makeIptablesCommand();
