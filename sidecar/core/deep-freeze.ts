/**
 * Freezes `root` and everything reachable from it; returns it typed as
 * given. Iterative, so a deeply nested value (a claim set from a token, a
 * parsed document) cannot overflow the stack.
 */
export function deepFreeze<T>(root: T): T {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
      Object.freeze(v);
      for (const child of Object.values(v)) stack.push(child);
    }
  }
  return root;
}
