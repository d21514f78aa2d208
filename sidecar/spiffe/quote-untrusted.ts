/** Longest prefix of an untrusted value that error messages repeat. */
const MAX_QUOTED = 256;

/**
 * Quotes a value that came from outside (a peer certificate, a token, a
 * header) for an error or log message: double quotes, every byte outside
 * printable ASCII escaped as \uXXXX, long values cut at 256 characters.
 *
 * Why: these messages end up in logs and HTTP error bodies; escaping stops a
 * crafted ID from forging log lines or smuggling control characters.
 */
export function quoteUntrusted(value: string, max: number = MAX_QUOTED): string {
  const cut = value.length > max;
  const shown = cut ? value.slice(0, max) : value;
  let out = '"';
  for (let i = 0; i < shown.length; i++) {
    const c = shown.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += '\\' + shown[i];
    else if (c >= 0x20 && c <= 0x7e) out += shown[i];
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  out += '"';
  return cut ? `${out}... (${value.length} characters)` : out;
}

/** Most values {@link quoteUntrustedList} shows. */
const MAX_LISTED = 5;

/**
 * Quotes a list of untrusted values (a token's audiences) for a message:
 * the first five, each cut at 64 characters, then how many more there
 * are, so a token with thousands of audiences cannot bloat the message.
 */
export function quoteUntrustedList(values: readonly string[]): string {
  const shown = values.slice(0, MAX_LISTED).map((v) => quoteUntrusted(v, 64));
  if (values.length > MAX_LISTED) shown.push(`... ${values.length - MAX_LISTED} more`);
  return `[${shown.join(', ')}]`;
}
