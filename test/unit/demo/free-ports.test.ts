import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePorts } from '../../../sidecar/demo/free-ports.ts';

// The kernel offers bind(0) ports from a random offset, so among a few
// thousand released ports some come back: without the process-wide memory
// this test sees repeats (checked by removing it).
test('freePorts never hands out the same port twice in one process', async () => {
  const seen = new Set<number>();
  for (let i = 0; i < 1500; i++) {
    const ports = await freePorts(2);
    for (const p of ports) {
      assert.ok(!seen.has(p), `port ${p} handed out twice (call ${i})`);
      seen.add(p);
    }
  }
});
