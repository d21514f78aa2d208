import { readFile, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  DEFAULT_INJECTION_SETTINGS,
  NAMESPACE_INJECT_LABEL,
  injectManifests,
  injectionSettings,
  parseBoolean,
  parseCidrList,
  parseLogLevel,
  parsePortList,
  type InjectionSettings,
  type Parsed,
} from '../injector/index.ts';
import { UsageError, type Command } from './io.ts';
import { parseFlags } from './parse-flags.ts';
import { packageVersion } from './version.ts';
import { describeError } from '../core/index.ts';

/** The default sidecar image: this package's name and version (never a moving tag). */
export function defaultImage(): string {
  const version = packageVersion();
  // Without a version --image is required.
  return version === '' ? '' : `spiffe-sidecar:${version}`;
}

/** Flags shared by `inject` and `webhook` that become {@link InjectionSettings}. */
export const SETTINGS_FLAGS = {
  image: { type: 'string' },
  'image-pull-policy': { type: 'string' },
  'native-sidecar': { type: 'string' },
  'workload-socket': { type: 'string' },
  'host-socket-dir': { type: 'string' },
  'sidecar-log-level': { type: 'string' },
  'exclude-outbound-ports': { type: 'string' },
  'exclude-outbound-cidrs': { type: 'string' },
  'exclude-inbound-ports': { type: 'string' },
} as const;

/** Help text for {@link SETTINGS_FLAGS}. */
export const SETTINGS_HELP = `  --image IMAGE                 sidecar image (default ${defaultImage() || 'none: required'})
  --image-pull-policy POLICY    Always | IfNotPresent | Never (default ${DEFAULT_INJECTION_SETTINGS.imagePullPolicy})
  --native-sidecar true|false   native sidecar (Kubernetes >= 1.29) unless a pod says otherwise (default true)
  --workload-socket csi|hostpath  how the Workload API socket reaches pods (default ${DEFAULT_INJECTION_SETTINGS.workloadSocket})
  --host-socket-dir DIR         node directory of the agent socket for hostpath (default ${DEFAULT_INJECTION_SETTINGS.hostSocketDir})
  --sidecar-log-level LEVEL     sidecar log level unless a pod sets one
  --exclude-outbound-ports LIST ports every pod reaches directly, added to the pod's own list
  --exclude-outbound-cidrs LIST IPv4 CIDRs every pod reaches directly (e.g. the API server)
  --exclude-inbound-ports LIST  inbound ports never captured in any pod
`;

function flag<T>(name: string, value: string | undefined, parse: (s: string) => Parsed<T>): T | undefined {
  if (value === undefined) return undefined;
  const r = parse(value);
  if (!r.ok) throw new UsageError(`--${name}: ${r.message}`);
  return r.value;
}

/** Builds validated settings from the shared flags; every problem is a UsageError. */
export function settingsFromFlags(v: Partial<Record<keyof typeof SETTINGS_FLAGS, string>>): InjectionSettings {
  const image = v.image ?? defaultImage();
  if (!image) throw new UsageError('--image is required');
  const input: { -readonly [K in keyof InjectionSettings]?: InjectionSettings[K] } & { image: string } = { image };
  const policy = v['image-pull-policy'];
  if (policy !== undefined) input.imagePullPolicy = policy as InjectionSettings['imagePullPolicy'];
  const native = flag('native-sidecar', v['native-sidecar'], parseBoolean);
  if (native !== undefined) input.nativeSidecar = native;
  const socket = v['workload-socket'];
  if (socket !== undefined) input.workloadSocket = socket as InjectionSettings['workloadSocket'];
  if (v['host-socket-dir'] !== undefined) input.hostSocketDir = v['host-socket-dir'];
  const level = flag('sidecar-log-level', v['sidecar-log-level'], parseLogLevel);
  if (level !== undefined) input.logLevel = level;
  const outPorts = flag('exclude-outbound-ports', v['exclude-outbound-ports'], parsePortList);
  if (outPorts !== undefined) input.excludeOutboundPorts = outPorts;
  const cidrs = flag('exclude-outbound-cidrs', v['exclude-outbound-cidrs'], parseCidrList);
  if (cidrs !== undefined) input.excludeOutboundCidrs = cidrs;
  const inPorts = flag('exclude-inbound-ports', v['exclude-inbound-ports'], parsePortList);
  if (inPorts !== undefined) input.excludeInboundPorts = inPorts;
  try {
    return injectionSettings(input);
  } catch (err) {
    throw new UsageError(describeError(err));
  }
}

const HELP = `usage: spiffe-sidecar inject -f FILE|- [options]

Offline injection, like istioctl kube-inject: reads multi-document YAML and
writes the same documents with the pod template of every Pod, Deployment,
StatefulSet, DaemonSet, ReplicaSet, Job and CronJob injected. Other
documents pass through unchanged. Already injected workloads are left alone.

options:
  -f, --filename FILE           manifest to read; - reads standard input
  -o, --output FILE             write here instead of standard output
  --only-annotated              inject only pod templates annotated ${NAMESPACE_INJECT_LABEL}: "true"
                                (default: every workload not annotated "false")
${SETTINGS_HELP}  -h, --help                    show this help

A report (one line per workload, with warnings) goes to standard error.
`;

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Builds the `inject` command; `stdin` is injectable for tests. */
export function makeInjectCommand(stdin: () => Readable): Command {
  return async (argv, io) => {
    const v = parseFlags(argv, {
      filename: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      'only-annotated': { type: 'boolean' },
      ...SETTINGS_FLAGS,
    }).values;
    if (v.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (v.filename === undefined) throw new UsageError('-f FILE (or -f - for standard input) is required');
    const settings = settingsFromFlags(v);
    const text = v.filename === '-' ? await readAll(stdin()) : await readFile(v.filename, 'utf8');
    // Offline there is no namespace to look at: the user asked for this file
    // to be injected, which is what an enabled namespace means.
    const namespaceLabels = v['only-annotated'] ? {} : { [NAMESPACE_INJECT_LABEL]: 'enabled' };
    const { output, reports } = injectManifests(text, { settings, namespaceLabels });
    if (v.output !== undefined) await writeFile(v.output, output);
    else io.stdout.write(output);
    for (const r of reports) {
      io.stderr.write(`${r.object}: ${r.patched ? 'injected' : 'unchanged'} (${r.reason})\n`);
      for (const w of r.warnings) io.stderr.write(`  warning: ${w}\n`);
    }
    return 0;
  };
}

/** `spiffe-sidecar inject`. */
export const injectCommand: Command = makeInjectCommand(() => process.stdin);
