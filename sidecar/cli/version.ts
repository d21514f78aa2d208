import { readFileSync } from 'node:fs';
import { EXIT_OK } from './exit-codes.ts';
import { choiceFlag, parseFlags } from './parse-flags.ts';
import type { Command } from './io.ts';

/** The Workload API this sidecar speaks: the SPIFFE Workload API, version 1 of its protobuf service. */
export const WORKLOAD_API_LEVEL = 'SPIFFE Workload API v1';

/**
 * The SPIRE release the e2e tests run against (spire-config/build/go.mod
 * pins it; test/unit/cli/version.test.ts keeps the two equal).
 */
export const TESTED_SPIRE_VERSION = 'v1.15.3';

/** This package's version from package.json ('' when it cannot be read, e.g. a trimmed image). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '';
  } catch {
    return '';
  }
}

/** What `spiffe-sidecar version --output json` prints. */
export interface VersionInfo {
  readonly version: string;
  readonly node: string;
  readonly workloadApi: string;
  readonly testedSpire: string;
}

/** The version facts of this process. */
export function versionInfo(nodeVersion: string): VersionInfo {
  return { version: packageVersion() || 'unknown', node: nodeVersion, workloadApi: WORKLOAD_API_LEVEL, testedSpire: TESTED_SPIRE_VERSION };
}

/** The text form: one fact per line. */
export function versionText(info: VersionInfo): string {
  return `spiffe-sidecar ${info.version}\nNode.js ${info.node}\n${info.workloadApi} (tested against SPIRE ${info.testedSpire})\n`;
}

const HELP = `usage: spiffe-sidecar version [--output text|json]

Prints this package's version, the Node.js running it and the Workload API
level (the SPIFFE Workload API version and the SPIRE release it is tested
against). \`spiffe-sidecar --version\` is the same.

options:
  --output text|json   format (default text)
  -h, --help           show this help
`;

/** `spiffe-sidecar version` and `spiffe-sidecar --version`. */
export const versionCommand: Command = async (argv, io) => {
  const { values } = parseFlags(argv, { output: { type: 'string' } });
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const output = choiceFlag('--output', values.output, ['text', 'json'], 'text');
  const info = versionInfo(process.version);
  io.stdout.write(output === 'json' ? `${JSON.stringify(info)}\n` : versionText(info));
  return EXIT_OK;
};
