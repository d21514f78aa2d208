import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keySetLifetimeMs } from '../../../sidecar/auth/cache-control.ts';

const bounds = { minMs: 60_000, maxMs: 86_400_000, defaultMs: 600_000 };

const rows: { name: string; header: string | string[] | undefined; want: number }[] = [
  { name: 'absent: the default', header: undefined, want: 600_000 },
  { name: 'max-age within bounds (RFC 9111 §5.2.2.1)', header: 'public, max-age=3600', want: 3_600_000 },
  { name: 'quoted max-age', header: 'max-age="120"', want: 120_000 },
  { name: 'max-age below the minimum is raised', header: 'max-age=5', want: 60_000 },
  { name: 'max-age above the maximum is cut', header: 'max-age=999999999', want: 86_400_000 },
  { name: 's-maxage is ignored (§5.2.2.10)', header: 's-maxage=7200', want: 600_000 },
  { name: 's-maxage beside max-age is ignored', header: 's-maxage=7200, max-age=300', want: 300_000 },
  { name: 'no-store gives the minimum', header: 'no-store, max-age=3600', want: 60_000 },
  { name: 'no-cache gives the minimum', header: 'No-Cache', want: 60_000 },
  { name: 'malformed max-age is stale (§4.2.1)', header: 'max-age=-1', want: 60_000 },
  { name: 'repeated max-age is stale', header: 'max-age=300, max-age=600', want: 60_000 },
  { name: 'split over two header lines', header: ['public', 'max-age=900'], want: 900_000 },
  { name: 'unknown directives only', header: 'public, must-revalidate', want: 600_000 },
];

for (const row of rows) test(`keySetLifetimeMs: ${row.name}`, () => assert.equal(keySetLifetimeMs(row.header, bounds), row.want));
