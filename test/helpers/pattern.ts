// The deterministic byte pattern that big.php and the C hello app send: byte[i] = i % 251.
// 251 is prime, so a lost, repeated or reordered chunk of any power-of-two size shows.
import { createHash } from 'node:crypto'

/** The pattern's period. */
export const PATTERN_PERIOD = 251
const BLOCK = Buffer.alloc(65536 + PATTERN_PERIOD)
for (let i = 0; i < BLOCK.length; i++) BLOCK[i] = i % PATTERN_PERIOD

/** `length` bytes of the pattern starting at absolute offset `offset`. */
export function patternBytes (offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  let filled = 0
  while (filled < length) {
    const start = (offset + filled) % PATTERN_PERIOD
    const take = Math.min(length - filled, BLOCK.length - start)
    BLOCK.copy(out, filled, start, start + take)
    filled += take
  }
  return out
}

/** md5 (hex) of the first n pattern bytes, computed in 64 KiB steps. */
export function patternMd5 (n: number): string {
  const hash = createHash('md5')
  for (let offset = 0; offset < n; offset += 65536) hash.update(patternBytes(offset, Math.min(65536, n - offset)))
  return hash.digest('hex')
}

/** Checks a stream against the pattern chunk by chunk, in constant memory (for 1 GiB bodies). */
export class PatternChecker {
  /** Bytes seen so far. */
  bytes = 0
  /** Absolute offset of the first wrong byte, or -1. */
  firstMismatch = -1

  /** Feeds the next chunk; returns false once a mismatch was seen. */
  push (chunk: Buffer): boolean {
    if (this.firstMismatch < 0) {
      for (let done = 0; done < chunk.length;) {
        const start = (this.bytes + done) % PATTERN_PERIOD
        const take = Math.min(chunk.length - done, BLOCK.length - start)
        if (BLOCK.compare(chunk, done, done + take, start, start + take) !== 0) {
          for (let i = 0; i < take; i++) {
            if (chunk[done + i] !== BLOCK[start + i]) { this.firstMismatch = this.bytes + done + i; break }
          }
          break
        }
        done += take
      }
    }
    this.bytes += chunk.length
    return this.firstMismatch < 0
  }

  /** True when exactly `expected` bytes were seen and all matched. */
  ok (expected: number): boolean {
    return this.firstMismatch < 0 && this.bytes === expected
  }
}
