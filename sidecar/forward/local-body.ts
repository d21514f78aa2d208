/** The body of a response the proxy makes itself: one line of text, newline-terminated. */
export function localBody(text: string): Buffer {
  return Buffer.from(text.endsWith('\n') ? text : `${text}\n`, 'utf8');
}
