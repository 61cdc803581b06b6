/**
 * Constant-time comparison for tags, ICVs and authenticators: the time taken depends on the
 * lengths only, never on where the first difference is (an early-exit compare leaks it).
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return constantTimeEqualAt(a, 0, b, 0, a.length) && a.length === b.length;
}

/** Compares a[aOffset, aOffset+length) with b[bOffset, bOffset+length) in constant time. */
export function constantTimeEqualAt(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number, length: number): boolean {
  if (aOffset < 0 || bOffset < 0 || aOffset + length > a.length || bOffset + length > b.length) return false;
  let diff = 0;
  for (let i = 0; i < length; i++) diff |= a[aOffset + i] ^ b[bOffset + i];
  return diff === 0;
}
