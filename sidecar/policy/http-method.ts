/** RFC 9110 §5.6.2 tchar: the characters of a token, such as a method name. */
const TCHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
  TCHAR[c] = alnum || "!#$%&'*+-.^_`|~".includes(ch) ? 1 : 0;
}

/** True when `s` is a non-empty RFC 9110 token (the syntax of a method name, §9.1). */
export function isHttpToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || TCHAR[c] !== 1) return false;
  }
  return true;
}

/**
 * Checks a method name written in a policy; returns a problem or undefined.
 *
 * Why uppercase only: methods are case-sensitive (RFC 9110 §9.1) and every
 * registered one is uppercase, so `get` in a policy would silently never match
 * a GET request. Custom tokens (`PURGE`, `M-SEARCH`) are accepted.
 */
export function methodProblem(method: string): string | undefined {
  if (!isHttpToken(method)) return 'not a valid method name (RFC 9110 §9.1 token)';
  if (method !== method.toUpperCase()) {
    return `methods are case-sensitive and written in uppercase (RFC 9110 §9.1); did you mean "${method.toUpperCase()}"?`;
  }
  return undefined;
}
