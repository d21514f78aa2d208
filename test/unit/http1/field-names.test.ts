import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldName } from '../../../sidecar/http1/field-names.ts';

/** The name as fieldName reads it from the middle of a line, as the parser passes it. */
function read(name: string): string {
  const buf = Buffer.from(`xx${name}: v\r\n`, 'latin1');
  return fieldName(buf, 2, 2 + name.length);
}

test('field names come back byte for byte as received, whether a shared spelling or not', () => {
  const cases = [
    'Content-Type', // shared, Title-Case
    'content-type', // shared, lower case
    'CONTENT-TYPE', // same length, not a shared spelling
    'Content-Typo', // same length, differs in the last byte
    'Host',
    'HOST',
    'hosT',
    'ETag',
    'etag',
    'X-Custom-Header',
    'x',
    '!#$%&\'*+-.^_`|~09azAZ',
  ];
  for (const name of cases) assert.equal(read(name), name);
});

test('a name that only starts like a shared spelling is not taken for it', () => {
  assert.equal(read('Hos'), 'Hos');
  assert.equal(read('Hosts'), 'Hosts');
  assert.equal(read('Content-Length2'), 'Content-Length2');
});
