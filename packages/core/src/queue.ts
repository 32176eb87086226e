/**
 * The writer's queue of records waiting to be appended, and the encoding of
 * a batch of them against the chain's head (FORMAT.md §2).
 *
 * Two kinds of entries keep their order in one queue:
 * - a stored line (a string, already escaped), from write() and metadata;
 * - a block: a run of LF-terminated lines whose stored form is the line
 *   itself (see isPlainText). A transport that gets its input in chunks
 *   (pino's worker receives megabytes at a time) queues a whole chunk as one
 *   block, so nothing is allocated per line.
 *
 * Either way the bytes of a record are identical: a block is exactly the
 * lines one write() each would have queued.
 *
 * Batches are encoded into one output buffer that is kept and reused, and a
 * block is turned into UTF-8 once, into a kept scratch buffer, when it
 * reaches the front: on this kind of machine, touching a fresh multi-megabyte
 * allocation costs more than encoding into it.
 *
 * On the native path (hash-path.ts, #17) the same bytes come from one call
 * per run of entries instead of one hash per record: a block's lines are
 * copied and hashed by the addon, and stored lines are laid out here and
 * chained by it in place.
 */
import type { HashFn } from './algorithm'
import { escapeLine, HASH_HEX, isPlainText, RECORD_OVERHEAD } from './record'

const LF = 0x0a
const PIPE = 0x7c

/** LF-terminated lines, and how far they have been appended. */
interface Block {
  text: string
  /** Length of the text in UTF-8: -1 until its UTF-8 is made (utf8()), as counting costs about as much as making it. */
  bytes: number
  /** Byte offset (in the UTF-8) of the next line to append. */
  pos: number
}

/** Bytes beyond the last character written that show a UTF-8 write was not cut short (a character takes at most 4). */
const UTF8_SLACK = 4

/** A scratch size for `n` bytes of UTF-8 or more: a sixteenth more, and the slack. */
function withRoom(n: number): number {
  return n + (n >> 4) + UTF8_SLACK
}

/** A block's UTF-8 is kept in the scratch buffer up to this size; a larger one gets a buffer of its own while it is the front. */
const SCRATCH_MAX = 16 * 1024 * 1024

type Entry = string | Block

/** One encoded batch, not yet taken off the queue (see commit). */
export interface Batch {
  /** The records, ready to append. */
  bytes: Buffer
  /** The hash of the last record: the new head. */
  prev: string
  /** Records in `bytes`. */
  records: number
  /** The batch stopped because the next record would pass `room`: rotate before the next one. */
  full: boolean
  /** Where the queue resumes after this batch. */
  next: { entry: number; pos: number }
}

function growEnds(ends: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const more = new Float64Array(ends.length * 2)
  more.set(ends)
  return more
}

export class RecordQueue {
  private entries: Entry[] = []
  /** The output of encode(), reused: valid until the next encode(). */
  private out = Buffer.alloc(0)
  /** The UTF-8 of `scratchOf`, the block at the front. */
  private scratch = Buffer.alloc(0)
  private scratchOf: Block | null = null
  /** Where the native path reports back (hash-path.ts): [next line, end of the records]. */
  private readonly state = new Float64Array(2)
  /** Where each stored line laid out for the native path ends, in `out`. */
  private ends: Float64Array<ArrayBuffer> = new Float64Array(1024)
  /** Memory held: UTF-16 units + RECORD_OVERHEAD per stored line; per block, UTF-16 units until its UTF-8 is made, then UTF-8 bytes. */
  private held = 0
  /** Entries ever pushed / entries ever fully appended. */
  private pushed = 0
  private done = 0

  /** Entries waiting (a block counts once, however many lines it holds). */
  get length(): number {
    return this.entries.length
  }

  /** About how many bytes of lines are waiting in memory. */
  get bytes(): number {
    return this.held
  }

  /** Entries ever queued: a flush() target. */
  get queued(): number {
    return this.pushed
  }

  /** Entries ever appended in full: a flush() target has been met once this reaches it. */
  get appended(): number {
    return this.done
  }

  /** Queues one stored line (without its newline). */
  push(stored: string): void {
    this.entries.push(stored)
    this.held += stored.length + RECORD_OVERHEAD
    this.pushed++
  }

  /**
   * Queues LF-terminated lines that need no escaping (isPlainText holds for
   * `text`). Each line becomes one record.
   */
  pushBlock(text: string): void {
    if (text.length === 0) return
    // Counted as UTF-16 units until utf8() knows its bytes.
    this.entries.push({ text, bytes: -1, pos: 0 })
    this.held += text.length
    this.pushed++
  }

  /** Queues a run of LF-terminated lines (or ''), one record per line: one block when none needs escaping, else line by line. */
  pushLines(text: string): void {
    if (isPlainText(text)) this.pushBlock(text)
    else for (let start = 0, nl = text.indexOf('\n'); nl !== -1; start = nl + 1, nl = text.indexOf('\n', start)) this.push(escapeLine(text.slice(start, nl)))
  }

  /** The UTF-8 of a block, made once while it is at the front. */
  private utf8(block: Block): Buffer {
    if (this.scratchOf !== block) {
      // At least a byte per UTF-16 unit, and some room for more. A write that fills the buffer to within a
      // character may have been cut short: then the text is counted and written again, into a buffer with the
      // same room beyond its size, so that the next blocks of such text fit at the first write.
      const least = block.text.length + UTF8_SLACK
      if (this.scratch.length < least || this.scratch.length > SCRATCH_MAX) this.scratch = Buffer.allocUnsafe(withRoom(block.text.length))
      let bytes = this.scratch.write(block.text, 0, 'utf8')
      if (bytes > this.scratch.length - UTF8_SLACK) {
        this.scratch = Buffer.allocUnsafe(withRoom(Buffer.byteLength(block.text)))
        bytes = this.scratch.write(block.text, 0, 'utf8')
      }
      if (block.bytes < 0) {
        this.held += bytes - block.text.length
        block.bytes = bytes
      }
      this.scratchOf = block
    }
    return this.scratch
  }

  /** The reused output buffer, at least `size` bytes. */
  private output(size: number): Buffer {
    if (this.out.length < size) this.out = Buffer.allocUnsafe(size)
    return this.out
  }

  /**
   * Encodes records from the front of the queue, chained after `prev`,
   * straight into one buffer, hashing each record over its bytes in place.
   * Stops before a record that would take the batch past `limit` bytes (a
   * record larger than `limit` goes alone: on a pipe, a batch within PIPE_BUF
   * is one atomic write), or once the queue is empty, or before a
   * record that would take the batch past `room` bytes, unless `mustTakeOne`
   * and the batch is still empty (a file always takes one record after its
   * header, however large). Nothing is taken off the queue until commit().
   * The batch's bytes are valid until the next encode().
   */
  encode(prev: string, hashFn: HashFn, limit: number, room: number, mustTakeOne: boolean): Batch {
    // Room for all that waits, up to about `limit`: a stored line takes at most
    // 3 bytes per UTF-16 unit; a block's lines take RECORD_OVERHEAD each besides
    // their bytes, which this covers for lines of 66 bytes or more (a batch of
    // shorter ones just ends sooner). A record too large for it gets its own.
    let out = this.output(Math.min(limit + 64 * 1024, this.held * 3 + RECORD_OVERHEAD))
    let off = 0
    let records = 0
    let full = false
    let entry = 0
    let pos = 0
    // The native path (hash-path.ts): stored lines are laid out from
    // `laidOut` and chained in one call; a block's lines are encoded in one call.
    const batch = hashFn.batch
    let laidOut = -1
    let pending = 0
    const chain = (): void => {
      if (pending === 0) return
      batch!.chainRecords(out, laidOut, this.ends, pending, prev)
      prev = out.toString('latin1', off - HASH_HEX - 1, off - 1)
      pending = 0
    }
    // Whether the next record, of `size` bytes, goes into this batch.
    const fits = (size: number): boolean => {
      if (off + size > room && (off > 0 || !mustTakeOne)) {
        full = true
        return false
      }
      if (off > 0 && off + size > limit) return false
      if (off + size > out.length) {
        if (off > 0) return false
        out = Buffer.allocUnsafe(size)
      }
      return true
    }
    outer: for (; entry < this.entries.length && off < limit; entry++) {
      const e = this.entries[entry]!
      if (typeof e === 'string') {
        const size = Buffer.byteLength(e) + RECORD_OVERHEAD
        if (!fits(size)) break
        if (batch) {
          // Laid out now, chained in one call with the stored lines around it (chain()).
          if (pending === 0) laidOut = off
          off += HASH_HEX
          out[off++] = PIPE
          off += out.write(e, off, 'utf8')
          out[off++] = PIPE
          off += HASH_HEX
          out[off++] = LF
          if (pending === this.ends.length) this.ends = growEnds(this.ends)
          this.ends[pending++] = off
          records++
          continue
        }
        const start = off
        off += out.write(prev, off, 'latin1')
        out[off++] = PIPE
        off += out.write(e, off, 'utf8')
        prev = hashFn(out.subarray(start, off))
        out[off++] = PIPE
        off += out.write(prev, off, 'latin1')
        out[off++] = LF
        records++
        continue
      }
      chain()
      const src = this.utf8(e)
      const srcEnd = e.bytes
      pos = e.pos
      // Plain typed-array views and copies: Buffer's copy() and subarray()
      // wrap the same operations in argument checks that cost more than the
      // copy of a log line.
      const srcAb = src.buffer
      const srcBase = src.byteOffset
      // Where the previous record's hash sits in `out`, to copy as this one's prev.
      let prevAt = -1
      while (pos < srcEnd) {
        if (off >= limit) break outer
        if (batch) {
          // All the lines that fit, in one call; a line past the bounds (the
          // room, the buffer, the batch limit) is left to the per-record code
          // below, which decides (fits()).
          const n = batch.encodeLines(src, pos, srcEnd, out, off, Math.max(0, Math.min(room, out.length, limit)), limit, prev, this.state)
          if (n > 0) {
            records += n
            pos = this.state[0]!
            off = this.state[1]!
            prevAt = off - HASH_HEX - 1
            prev = out.toString('latin1', prevAt, prevAt + HASH_HEX)
            if (pos >= srcEnd) break
            if (off >= limit) break outer
          }
        }
        const nl = src.indexOf(LF, pos)
        const size = nl - pos + RECORD_OVERHEAD
        if (!fits(size)) break outer
        const start = off
        if (prevAt >= 0) out.copyWithin(off, prevAt, prevAt + HASH_HEX)
        else out.write(prev, off, 'latin1')
        off += HASH_HEX
        out[off++] = PIPE
        out.set(new Uint8Array(srcAb, srcBase + pos, nl - pos), off)
        off += nl - pos
        prev = hashFn(new Uint8Array(out.buffer, out.byteOffset + start, off - start))
        out[off++] = PIPE
        prevAt = off
        off += out.write(prev, off, 'latin1')
        out[off++] = LF
        records++
        pos = nl + 1
      }
      pos = 0
    }
    chain()
    return { bytes: off === out.length ? out : out.subarray(0, off), prev, records, full, next: { entry, pos } }
  }

  /** Takes an appended batch off the queue. */
  commit(batch: Batch): void {
    const { entry, pos } = batch.next
    for (let i = 0; i < entry; i++) {
      const e = this.entries[i]!
      this.held -= typeof e === 'string' ? e.length + RECORD_OVERHEAD : e.bytes - e.pos
      if (e === this.scratchOf) this.scratchOf = null
    }
    if (pos > 0) {
      const e = this.entries[entry] as Block
      this.held -= pos - e.pos
      e.pos = pos
    }
    this.entries.splice(0, entry)
    this.done += entry
  }
}
