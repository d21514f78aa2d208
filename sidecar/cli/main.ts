#!/usr/bin/env node
/**
 * The process entry point. This folder is the only code that reads
 * process.argv / process.env, installs signal handlers or calls process.exit.
 *
 * The Node.js check comes first and imports nothing else: on an unsupported
 * Node the process says which version it needs and which it found, and
 * exits 2, before any module that could fail in a confusing way is loaded.
 */
import { unsupportedNodeMessage } from './node-support.ts';

const unsupported = unsupportedNodeMessage(process.versions.node, process.execPath);
if (unsupported !== undefined) {
  process.stderr.write(unsupported);
  process.exitCode = 2;
} else {
  // Before the command's modules load, so the bundle's chunks come from the cache.
  const { useBundleCompileCache } = await import('./compile-cache.ts');
  useBundleCompileCache(import.meta.url);
  const { runProcess } = await import('./dispatch.ts');
  process.exitCode = await runProcess();
}
