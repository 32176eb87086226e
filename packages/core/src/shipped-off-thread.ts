/**
 * The second core in the reading pass of shipped verification (#15): while
 * this thread checks the records of the first half of a chunk, a thread of
 * the libuv pool checks those of the second half (admitRecordsAsync of the
 * native path, hash-path.ts). Its records then go into the index after the
 * first half's, in input order, exactly as if this thread had taken them:
 * they are the same records, checked the same way; where it stopped (a line
 * that is not a plain record it can vouch for), this thread goes on.
 */
import type { BatchHasher } from './hash-path'
import { HASH_HEX, RECORD_OVERHEAD } from './record'
import type { RecordIndex } from './shipped-index'

/** Chunks smaller than this are read in this thread alone: handing half over would cost more than it saves. */
const MIN_BYTES = 64 * 1024
const PIPE = 0x7c
const LF = 0x0a

/** One half of a chunk at a time, checked off this thread. */
export class OffThread {
  private keys = new Uint32Array(0)
  private words = new Uint32Array(0)
  private starts = new Uint32Array(0)
  private job: Promise<number[]> | null = null
  /** Where the half handed over starts in its chunk. */
  private from = 0

  /**
   * Hands over the second half of the whole lines [s, end) of `b` when it is
   * worth it and looks like records. Returns where this thread's part ends:
   * the start of the half handed over, or `end` when nothing was.
   */
  start(batch: BatchHasher | undefined, b: Buffer, s: number, end: number, word: number): number {
    if (batch === undefined || end - s < MIN_BYTES) return end
    const mid = b.indexOf(LF, s + ((end - s) >>> 1)) + 1
    if (mid <= 0 || mid >= end || b[mid + HASH_HEX] !== PIPE) return end
    // The most records the half can hold: each takes at least RECORD_OVERHEAD bytes.
    const most = Math.ceil((end - mid) / RECORD_OVERHEAD)
    if (this.words.length < most) {
      this.keys = new Uint32Array(most * 8)
      this.words = new Uint32Array(most)
      this.starts = new Uint32Array(most)
    }
    this.from = mid
    this.job = batch.admitRecordsAsync(b, mid, end, most, this.keys, this.words, this.starts, word)
    // Never an unhandled rejection when this thread fails first and does not wait for it.
    this.job.catch(() => {})
    return mid
  }

  /**
   * Waits for the half handed over, and adds its records to `index` as the
   * lines after `line` (whose first has ordinal `ordinal`): `mark(at, l)` is
   * told where each line l that is a multiple of `every` lines on from line
   * 1 starts. Returns how many it took and where they end.
   */
  async finish(index: RecordIndex, ordinal: number, line: number, every: number, mark: (at: number, l: number) => void): Promise<{ records: number; end: number }> {
    const [end, records] = (await this.job!) as [number, number]
    this.job = null
    for (let k = (every - (line % every)) % every; k < records; k += every) mark(this.from + this.starts[k]!, line + 1 + k)
    index.append(this.keys, this.words, records, ordinal)
    return { records, end: records === 0 ? this.from : end }
  }
}
