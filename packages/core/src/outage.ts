import { ChainlogError, ErrorCodes } from './errors'
import type { Emit, ResumeEvent } from './events'
import type { Lease } from './lease'

/** What an outage needs from the writer. */
export interface OutageContext {
  lease: Lease
  emit: Emit<'error' | 'resume'>
  /** Fails what waits for a flush. */
  rejectWaiters(err: ChainlogError): void
  /** Resolves the flushes met, and emits `'drain'` if it is due. */
  settle(): void
  closing(): boolean
}

/**
 * A failing disk (ENOSPC, EIO, a lock that cannot be taken): the first
 * failure of a spell is reported once, the queue is kept and retried until
 * the disk takes it, lines past `maxBuffered` are refused and counted, and
 * `'resume'` tells how many once the disk is back. The same for every
 * transport: the first refusal is an `'error'` (BUFFER_FULL), the count
 * comes with `'resume'`.
 */
export class Outage {
  /** The failure the disk is in, or null while appends go through. */
  failure: ChainlogError | null = null
  /** Lines refused with BUFFER_FULL since the disk started failing. */
  private refused = 0
  private readonly ctx: OutageContext

  constructor(ctx: OutageContext) {
    this.ctx = ctx
  }

  /** An append failed: tell the caller once, keep the queue, and retry until the disk takes it. */
  fail(err: ChainlogError): void {
    const first = this.failure === null
    this.failure = err
    this.ctx.rejectWaiters(err)
    if (!this.ctx.closing()) this.ctx.lease.retryUntil(() => this.resumed())
    if (first) this.ctx.emit('error', err)
  }

  /**
   * Refuses lines while the failing disk holds `waiting` bytes, past
   * maxBuffered (`lines`: the text of writeLines(), or null for one line).
   * The first refusal of the spell is emitted as `'error'`.
   * @throws ChainlogError BUFFER_FULL if `mayThrow`
   */
  refuse(lines: string | null, waiting: number, mayThrow: boolean): false {
    const failure = this.failure!
    let n = 1
    if (lines !== null) for (let nl = lines.indexOf('\n'); nl !== -1 && nl < lines.length - 1; nl = lines.indexOf('\n', nl + 1)) n++
    const first = this.refused === 0
    if (!first && !mayThrow) {
      this.refused += n
      return false
    }
    const err = new ChainlogError(ErrorCodes.BUFFER_FULL, `${n === 1 ? 'the line was' : `${n} lines were`} not logged: ${waiting} bytes are waiting for a failing disk (${failure.message})`, { cause: failure })
    if (first) this.ctx.emit('error', err)
    this.refused += n
    if (mayThrow) throw err
    return false
  }

  /** The retry went through: the spell is over. */
  private resumed(): void {
    this.failure = null
    this.ctx.settle()
    const resumed: ResumeEvent = { refused: this.refused }
    this.refused = 0
    this.ctx.emit('resume', resumed)
  }
}
