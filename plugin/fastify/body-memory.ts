// What buffered request bodies hold in memory: one registration's total (spoolMemoryTotal),
// and a body's chunks, with small ones copied together so that a body sent a byte per TCP
// segment does not cost a Buffer object per byte.
/**
 * The bytes that buffered request bodies hold in memory, together (spoolMemoryTotal): taken
 * while a body is read and held, given back when its reply is over. A body that would pass the
 * total goes to its temp file instead.
 */
export class BodyMemory {
  #used = 0

  constructor (readonly total: number) {}

  /** bytes held now */
  get used (): number {
    return this.#used
  }

  /** Takes `bytes` more when they fit in the total. */
  tryTake (bytes: number): boolean {
    if (this.#used + bytes > this.total) return false
    this.#used += bytes
    return true
  }

  give (bytes: number): void {
    this.#used -= bytes
  }
}

/**
 * Chunks below this size are copied into a block of BLOCK_SIZE instead of being kept each,
 * once a body has more than LOOSE_CHUNKS of them (a usual body comes in a few large chunks:
 * a form post of a few hundred bytes is kept as it came, with no block allocated for it).
 */
const SMALL_CHUNK = 4096
const BLOCK_SIZE = 16384
const LOOSE_CHUNKS = 16

/** A body's chunks held in memory: large ones as they came, small ones copied into blocks. */
export class HeldChunks {
  readonly chunks: Buffer[] = []
  /** the block small chunks are being copied into, and how much of it is used */
  private block: Buffer | undefined
  private blockUsed = 0
  /** bytes of memory the chunks and the block take (a block counts whole) */
  reserved = 0

  /** What reserved would become with `chunk` added. */
  reservedWith (chunk: Buffer): number {
    if (chunk.length >= SMALL_CHUNK || this.keepsLoose()) return this.reserved + chunk.length
    const room = this.block === undefined ? 0 : this.block.length - this.blockUsed
    return chunk.length <= room ? this.reserved : this.reserved + BLOCK_SIZE
  }

  add (chunk: Buffer): void {
    this.reserved = this.reservedWith(chunk)
    if (chunk.length >= SMALL_CHUNK || this.keepsLoose()) {
      this.closeBlock()
      this.chunks.push(chunk)
      return
    }
    if (this.block === undefined || this.block.length - this.blockUsed < chunk.length) {
      this.closeBlock()
      this.block = Buffer.allocUnsafeSlow(BLOCK_SIZE)
    }
    chunk.copy(this.block, this.blockUsed)
    this.blockUsed += chunk.length
  }

  /** Every chunk in order, as views; empties the list. */
  takeAll (): Buffer[] {
    this.closeBlock()
    return this.chunks.splice(0)
  }

  private keepsLoose (): boolean {
    return this.block === undefined && this.chunks.length < LOOSE_CHUNKS
  }

  private closeBlock (): void {
    if (this.block !== undefined && this.blockUsed > 0) this.chunks.push(this.block.subarray(0, this.blockUsed))
    this.block = undefined
    this.blockUsed = 0
  }
}
