// Shared settings of the property tests. In CI the seed is fixed (the same cases every run);
// bench/fuzz/run.sh sets FUZZ_SEED to a random value and FUZZ_SCALE to run many more cases.
import fc from 'fast-check'

/** The seed every property uses: FUZZ_SEED, else a fixed one. */
export const SEED = process.env.FUZZ_SEED !== undefined && process.env.FUZZ_SEED !== '' ? Number(process.env.FUZZ_SEED) : 0x5eed_f00d

const SCALE = process.env.FUZZ_SCALE !== undefined && process.env.FUZZ_SCALE !== '' ? Math.max(0.01, Number(process.env.FUZZ_SCALE)) : 1

/** fast-check parameters for a property with `runs` cases in CI (scaled by FUZZ_SCALE). */
export function params (runs: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(runs * SCALE)), endOnFailure: true }
}

/** Cut positions (strictly inside the buffer) from arbitrary numbers. */
export function fragment (buf: Buffer, cuts: readonly number[]): Buffer[] {
  if (buf.length < 2) return [buf]
  const points = [...new Set(cuts.map((c) => 1 + (c % (buf.length - 1))))].sort((a, b) => a - b)
  const parts: Buffer[] = []
  let from = 0
  for (const p of points) {
    parts.push(buf.subarray(from, p))
    from = p
  }
  parts.push(buf.subarray(from))
  return parts
}

/** How a buffer is cut: at random places, often, or into single bytes. */
export const cutsArb: fc.Arbitrary<number[] | 'bytes'> = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.nat(), { maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constant('bytes' as const) }
)

export function cutWith (buf: Buffer, cuts: number[] | 'bytes'): Buffer[] {
  if (cuts !== 'bytes') return fragment(buf, cuts)
  const parts: Buffer[] = []
  for (let i = 0; i < buf.length; i++) parts.push(buf.subarray(i, i + 1))
  return parts
}

/** The `code` of an error, or a description of a thing that is not one of ours. */
export function codeOf (err: unknown): string {
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : `not a coded error: ${String(err)}`
}
