import { describeError } from '../core/index.ts';
import { execFileRunner, type CommandRunner } from '../iptables/index.ts';
import type { NatTableInput } from './iptables-check.ts';

/** Where {@link readNatTable} runs. */
export interface NatTableContext {
  /** The process environment: Kubernetes sets KUBERNETES_SERVICE_HOST in every pod's containers. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** This process's uid (undefined where the platform has none). */
  readonly uid: number | undefined;
  /** Runs iptables (default: execFile, no shell). */
  readonly runner?: CommandRunner;
  /** The iptables binary (default `iptables`). */
  readonly iptables?: string;
}

/**
 * Reads the pod's nat table with `iptables -t nat -S`, read-only. Outside
 * a pod, or as non-root (the listing needs CAP_NET_ADMIN), it does not try.
 */
export async function readNatTable(c: NatTableContext): Promise<NatTableInput> {
  if (!c.env['KUBERNETES_SERVICE_HOST']) return { kind: 'not-in-pod' };
  if (c.uid !== 0) return { kind: 'not-root' };
  try {
    const r = await (c.runner ?? execFileRunner)(c.iptables ?? 'iptables', ['-t', 'nat', '-S']);
    if (r.code !== 0) return { kind: 'unreadable', error: r.stderr.trim() || `iptables exited ${r.code}` };
    return { kind: 'rules', text: r.stdout };
  } catch (err) {
    return { kind: 'unreadable', error: describeError(err) };
  }
}
