#!/usr/bin/env node
// Published entry: runs the compiled CLI. In a checkout, `node sidecar/cli/main.ts` runs the source directly.
import '../dist/cli/main.js';
