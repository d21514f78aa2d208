/**
 * Runs the real sidecar for integration tests: `node sidecar/cli/main.ts run
 * --config FILE` as a child process with a config written to a temp
 * directory, readiness polling on its admin port, its JSON log lines, and a
 * clean stop. Everything is killed and removed by `cleanup` (the test
 * context), also when the test fails.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ENV_ADMIN_LISTEN, isSidecarEnvName } from '../../sidecar/core/index.ts';
import { freePorts, httpCall, type HttpCallOptions, type HttpResult } from '../../sidecar/testing.ts';
import type { Cleanup } from './dev-agent-harness.ts';
import { TestSidecarProcess as SidecarProcess } from './test-sidecar-process.ts';

export { freePorts, httpCall, metricValue } from '../../sidecar/testing.ts';
export type { HttpResult, LogLine } from '../../sidecar/testing.ts';
export { TestSidecarProcess as SidecarProcess } from './test-sidecar-process.ts';

const projectRoot = resolve(import.meta.dirname, '..', '..');
/** `sidecar/cli/main.ts`. */
export const mainScript = join(projectRoot, 'sidecar', 'cli', 'main.ts');

/** The test process's environment without SPIFFE variables, which would override the test's config. */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (isSidecarEnvName(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** A temp directory removed after the test. */
export function tempDir(cleanup: Cleanup, prefix = 'sidecar-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Options of {@link startSidecar}. */
export interface StartSidecarOptions {
  readonly cleanup: Cleanup;
  /**
   * The configuration (docs/config.md) as an object, written as YAML. When
   * it has no `admin.listen`, a free loopback port is filled in. `log.level`
   * defaults to info.
   */
  readonly config: Record<string, unknown>;
  /** Default true: resolve only once /readyz answers 200. */
  readonly waitReady?: boolean;
  readonly readyTimeoutMs?: number;
  /** Extra environment variables for the child. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where the config file goes (default: a new temp directory). */
  readonly dir?: string;
  /** Name of the config file (default sidecar.yaml). */
  readonly name?: string;
  /** The entry script (default: the sources' sidecar/cli/main.ts; the bundle test passes dist/bin/main.js). */
  readonly mainScript?: string;
}

/** A running sidecar process of a test. */
export interface TestSidecar extends SidecarProcess {
  readonly configPath: string;
}

/** Starts `spiffe-sidecar run` with `o.config` and (by default) waits until it is ready. */
export async function startSidecar(o: StartSidecarOptions): Promise<TestSidecar> {
  const dir = o.dir ?? tempDir(o.cleanup);
  const config: Record<string, unknown> = { log: { level: 'info' }, ...o.config };
  let admin = (config['admin'] as { listen?: string } | undefined)?.listen;
  if (admin === undefined) {
    const [port] = await freePorts(1);
    admin = `127.0.0.1:${port}`;
    config['admin'] = { listen: admin };
  }
  const adminPort = Number(admin.slice(admin.lastIndexOf(':') + 1));
  const configPath = join(dir, o.name ?? 'sidecar.yaml');
  writeFileSync(configPath, stringify(config));
  const p = SidecarProcess.spawn({ execPath: process.execPath, mainScript: o.mainScript ?? mainScript, configPath, adminPort, env: cleanEnv(o.env), cwd: projectRoot });
  o.cleanup.after(() => p.kill());
  Object.defineProperty(p, 'configPath', { value: configPath });
  if (o.waitReady ?? true) await p.waitReady(o.readyTimeoutMs ?? 20_000);
  return p as TestSidecar;
}

/**
 * Starts `spiffe-sidecar run` configured by environment variables alone (no
 * --config), as the injector configures it in a pod: `env` plus the admin
 * listener on 127.0.0.1:`adminPort`. Killed on `cleanup`; resolves once ready.
 */
export async function startEnvSidecar(cleanup: Cleanup, adminPort: number, env: Readonly<Record<string, string>>): Promise<SidecarProcess> {
  const p = SidecarProcess.spawn({
    execPath: process.execPath,
    mainScript,
    adminPort,
    env: cleanEnv({ [ENV_ADMIN_LISTEN]: `127.0.0.1:${adminPort}`, ...env }),
    args: ['run'],
  });
  cleanup.after(() => p.kill());
  await p.waitReady();
  return p;
}

/** Runs the CLI to completion (e.g. `run` with a broken config) and returns its exit status and output. */
export function runCli(
  args: readonly string[],
  o: { env?: Readonly<Record<string, string>>; timeoutMs?: number } = {},
): Promise<{ status: number | string; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', mainScript, ...args], {
      cwd: projectRoot,
      env: cleanEnv(o.env) as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timeout also kills what it started (the demo's sidecars).
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      reject(new Error(`spiffe-sidecar ${args.join(' ')}: still running after ${o.timeoutMs ?? 60_000} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, o.timeoutMs ?? 60_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ status: code ?? signal ?? 'unknown', stdout, stderr });
    });
  });
}

/** A GET through an outbound listener: plain HTTP with `Host: host`. */
export function viaOutbound(port: number, path: string, host = 'backend', o: HttpCallOptions = {}): Promise<HttpResult> {
  return httpCall(port, path, { ...o, headers: { host, ...o.headers } });
}

/** Polls `fn` until it returns a truthy value; rejects with `what()` after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T> | T, what: () => string, timeoutMs = 20_000, everyMs = 50): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > until) {
      const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${what()}: not true within ${timeoutMs} ms${last}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
