import { countTo, type AppendNow, type Position } from './discovery'
import { ChainlogError, ErrorCodes } from './errors'
import type { Turns } from './lease'
import { metaLine } from './meta'
import { DEFAULT_HEARTBEAT_MS, Sealer, type SealKind } from './seal'
import type { Emit } from './events'
import type { Settings } from './settings'

/** What sealing needs from the writer. */
export interface SealingContext {
  settings: Pick<Settings, 'now' | 'sealEvery' | 'sealInterval'>
  at: Position
  appendNow: AppendNow
  emit: Emit<'seal' | 'error'>
}

/**
 * When seals are due (docs/FORMAT.md §13): when the writer starts, after
 * `sealEvery` records of this writer, at least every `sealInterval` also
 * when idle (the heartbeat, never longer than the keys' heartbeat), at each
 * rotation and at close. The keys and signatures are the Sealer's (seal.ts);
 * this room only decides when and at what time, and appends what it signs.
 */
export class Sealing {
  private readonly ctx: SealingContext
  private readonly sealer: Sealer
  /** The heartbeat this writer keeps, ms: its sealInterval. */
  readonly period: number
  /** Chain position after this writer's last seal, and the time it carries. */
  private lastCount = -1
  private lastTime = 0
  /** When the last seal was made or tried, by the clock and by the monotonic clock (which no clock step moves). */
  private triedAt = 0
  private triedMono = 0
  private timer: NodeJS.Timeout | undefined
  private errorReported = false

  /**
   * @param sealKey path of the sealing state made by `chainlog keygen`
   * @throws ChainlogError INVALID_OPTION when sealInterval is longer than the heartbeat the keys fix
   */
  constructor(sealKey: string, ctx: SealingContext) {
    this.ctx = ctx
    this.sealer = new Sealer(sealKey)
    const fixed = this.sealer.heartbeat
    const asked = ctx.settings.sealInterval
    if (asked !== undefined && fixed !== null && asked > fixed) {
      this.sealer.close()
      throw new ChainlogError(ErrorCodes.INVALID_OPTION, `sealInterval ${asked} ms is longer than the heartbeat of ${fixed} ms fixed in the sealing key ${this.sealer.keyId} at keygen: the verifier would report the silences between seals as tampering; leave sealInterval out, or make it at most ${fixed}`)
    }
    this.period = asked ?? fixed ?? DEFAULT_HEARTBEAT_MS
  }

  /**
   * The head was found (start-up, lock held): a start seal covers whatever
   * the chain holds before this writer, such as the records a writer killed
   * before its next seal left, and dates this writer's start with a key of
   * its time. On a chain this writer has just begun it seals the header:
   * lines logged before the writer was ready (a pino worker still starting)
   * carry older times, and the verifier judges them by this seal.
   */
  begin(): void {
    this.lastCount = countTo(this.ctx.at.cur!)
    this.seal('start')
  }

  /**
   * The time a seal carries: the clock, but never before this writer's last
   * seal, nor before the epoch the sealing state holds. A clock that steps
   * back (an NTP correction) cannot be signed for with an erased key, and a
   * seal time going backwards would read as a replay (FORMAT.md §13.5); the
   * records keep the clock's own times.
   */
  private sealTime(): number {
    return Math.max(this.ctx.settings.now(), this.lastTime, this.sealer.earliest())
  }

  /**
   * After a batch (lock held): seals if `sealEvery` records went by since
   * the last seal, or if the heartbeat is due: a busy writer seals what it
   * just wrote at once rather than when its timer gets a turn.
   */
  afterBatch(): void {
    const since = countTo(this.ctx.at.cur!) - this.lastCount
    if (since >= this.ctx.settings.sealEvery || (since > 0 && this.due())) this.seal('interval')
  }

  /** A heartbeat is due: 3/4 of the period went by since the last seal, by the clock or by the monotonic clock. */
  private due(): boolean {
    return Math.max(this.ctx.settings.now() - this.triedAt, performance.now() - this.triedMono) >= this.period * 0.75
  }

  /**
   * Appends a signed seal over the current head (lock held). A sealing
   * failure (an expired key, a clock before the key) is reported once and
   * logging goes on unsealed: the verifier shows the unsealed records.
   */
  seal(kind: SealKind): void {
    const { at, settings } = this.ctx
    const count = countTo(at.cur!)
    this.triedAt = settings.now()
    this.triedMono = performance.now()
    let meta
    try {
      meta = this.sealer.seal({ chain: at.chain, count, head: at.prev, time: this.sealTime(), kind, every: this.period })
    } catch (err) {
      if (!this.errorReported) {
        this.errorReported = true
        const error = err instanceof ChainlogError ? err : new ChainlogError(ErrorCodes.IO_ERROR, `sealing failed: ${(err as Error).message}`, { cause: err })
        // The start seal fails while the log opens, before the application could listen: it hears the error once the log is open.
        if (kind === 'start') setImmediate(() => this.ctx.emit('error', error))
        else this.ctx.emit('error', error)
      }
      this.lastCount = count
      return
    }
    this.ctx.appendNow([metaLine(meta)])
    this.lastCount = count + 1
    this.lastTime = meta.time
    this.ctx.emit('seal', { count: count + 1, head: at.prev, time: meta.time, epoch: meta.epoch, kind })
  }

  /**
   * Heartbeat: seal at least every `period`, also when nothing is logged.
   * Due from 3/4 of the period, checked every 1/8 of it, so seals are at
   * most 7/8 of the period apart plus the time the lock takes. Time is told
   * by the clock (which tests inject) or by the monotonic clock, whichever
   * says more: a clock that steps back does not hold the heartbeat up.
   */
  startHeartbeat(turns: Turns): void {
    this.timer = setInterval(() => {
      if (turns.busy() || !this.due()) return
      turns.afterQueue(() => {
        if (this.due()) this.seal(countTo(this.ctx.at.cur!) > this.lastCount ? 'interval' : 'heartbeat')
      })
    }, Math.max(12, Math.floor(this.period / 8)))
    this.timer.unref()
  }

  /** No more heartbeats (closing; the close seal is still to come). */
  stop(): void {
    clearInterval(this.timer)
  }

  /** Lets go of the sealing state. */
  close(): void {
    this.sealer.close()
  }
}
