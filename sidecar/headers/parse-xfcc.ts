import { quoteUntrusted } from '../spiffe/index.ts';
import type { XfccElement, XfccPair } from './format-xfcc.ts';
import { HeaderError } from './header-error.ts';

const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** RFC 9110 tchar, for keys. */
const TCHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
  TCHAR[c] = alnum || "!#$%&'*+-.^_`|~".includes(ch) ? 1 : 0;
}

/**
 * Parses an x-forwarded-client-cert value (Envoy's grammar, as written by
 * formatXfcc) into its elements. Quoted values may contain ',', ';' and '=';
 * inside quotes a backslash takes the next character literally (`\"`, `\\`).
 * Spaces and tabs around ',', ';' and '=' are ignored, and empty elements are
 * skipped (RFC 9110 §5.6.1), so headers joined with ", " parse too. An empty
 * value gives no elements. Throws HeaderError 'headers.xfcc_syntax' naming
 * the offset of the first problem.
 *
 * Values are returned as written: this does not URL-decode Cert or Chain.
 */
export function parseXfcc(header: string): XfccElement[] {
  const p = new Parser(header);
  return p.parse();
}

/** The value of the first pair named `key` (compared case-insensitively), or undefined. */
export function xfccValue(element: XfccElement, key: string): string | undefined {
  const want = key.toLowerCase();
  for (const pair of element) if (pair.key.toLowerCase() === want) return pair.value;
  return undefined;
}

class Parser {
  readonly #s: string;
  #i = 0;

  constructor(s: string) {
    if (typeof s !== 'string') throw new HeaderError('headers.xfcc_syntax', 'headers: XFCC value is not a string');
    this.#s = s;
  }

  parse(): XfccElement[] {
    const elements: XfccElement[] = [];
    const s = this.#s;
    for (;;) {
      this.#skipSpace();
      if (this.#i >= s.length) return elements;
      if (s.charCodeAt(this.#i) === COMMA) {
        this.#i++;
        continue;
      }
      elements.push(this.#element());
      this.#skipSpace();
      if (this.#i >= s.length) return elements;
      if (s.charCodeAt(this.#i) !== COMMA) throw this.#error('expected "," or ";"');
      this.#i++;
    }
  }

  #element(): XfccElement {
    const pairs: XfccPair[] = [];
    const s = this.#s;
    for (;;) {
      this.#skipSpace();
      const key = this.#key();
      this.#skipSpace();
      if (s.charCodeAt(this.#i) !== EQUALS) throw this.#error(`expected "=" after key ${quoteUntrusted(key)}`);
      this.#i++;
      this.#skipSpace();
      const value = s.charCodeAt(this.#i) === QUOTE ? this.#quoted() : this.#unquoted();
      pairs.push(Object.freeze({ key, value }));
      this.#skipSpace();
      if (this.#i >= s.length || s.charCodeAt(this.#i) === COMMA) return Object.freeze(pairs);
      if (s.charCodeAt(this.#i) !== SEMICOLON) throw this.#error('expected ";", "," or the end after a value');
      this.#i++;
    }
  }

  #key(): string {
    const s = this.#s;
    const start = this.#i;
    while (this.#i < s.length) {
      const c = s.charCodeAt(this.#i);
      if (c >= 0x80 || TCHAR[c] !== 1) break;
      this.#i++;
    }
    if (this.#i === start) throw this.#error('expected a key');
    return s.slice(start, this.#i);
  }

  #quoted(): string {
    const s = this.#s;
    const open = this.#i;
    this.#i++;
    let value = '';
    for (;;) {
      if (this.#i >= s.length) throw this.#error('unterminated quoted value', open);
      const c = s.charCodeAt(this.#i);
      if (c === QUOTE) {
        this.#i++;
        return value;
      }
      if (c === BACKSLASH) {
        if (this.#i + 1 >= s.length) throw this.#error('unterminated quoted value', open);
        value += s[this.#i + 1];
        this.#i += 2;
        continue;
      }
      value += s[this.#i];
      this.#i++;
    }
  }

  #unquoted(): string {
    const s = this.#s;
    const start = this.#i;
    while (this.#i < s.length) {
      const c = s.charCodeAt(this.#i);
      if (c === COMMA || c === SEMICOLON) break;
      if (c === QUOTE || c === EQUALS) throw this.#error(`${String.fromCharCode(c)} in a value that is not quoted`);
      this.#i++;
    }
    let end = this.#i;
    while (end > start && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
    return s.slice(start, end);
  }

  #skipSpace(): void {
    const s = this.#s;
    while (this.#i < s.length && (s.charCodeAt(this.#i) === 0x20 || s.charCodeAt(this.#i) === 0x09)) this.#i++;
  }

  #error(what: string, at: number = this.#i): HeaderError {
    return new HeaderError(
      'headers.xfcc_syntax',
      `headers: invalid x-forwarded-client-cert at offset ${at}: ${what} (in ${quoteUntrusted(this.#s)})`,
    );
  }
}
