/** The Internet checksum (RFC 1071), over a byte range, with an optional starting sum. */

/** One's-complement sum of buffer[offset, offset+length), folded to 16 bits, not inverted. */
export function onesComplementSum(buffer: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  const end = offset + length - 1;
  let i = offset;
  for (; i < end; i += 2) sum += (buffer[i] << 8) | buffer[i + 1];
  if (i === end) sum += buffer[i] << 8; // odd length: pad with a zero byte
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum field value for buffer[offset, offset+length) (the field itself counted as zero by the caller). */
export function internetChecksum(buffer: Uint8Array, offset: number, length: number, initial = 0): number {
  return ~onesComplementSum(buffer, offset, length, initial) & 0xffff;
}
