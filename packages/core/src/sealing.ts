import { countTo, type AppendNow, type Position } from './discovery'
import { ChainlogError, ErrorCodes } from './errors'
import type { Turns } from './lease'
import { metaLine } from './meta'
import { Sealer, type SealKind } from './seal'
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
 * When seals are due (docs/FORMAT.md §13): after `sealEvery` records of this
 * writer, at least every `sealInterval` also when idle (the heartbeat), at
 * each rotation and at close. The keys and signatures are the Sealer's
 * (seal.ts); this room only decides when, and appends what it signs.
 */
export class Sealing {
  private readonly ctx: SealingContext
  private readonly sealer: Sealer
  /** Chain position after this writer's last seal, and when it was made. */
  private lastCount = -1
  private lastTime = 0
  private timer: NodeJS.Timeout | undefined
  private errorReported = false

  /** @param sealKey path of the sealing state made by `chainlog keygen` */
  constructor(sealKey: string, ctx: SealingContext) {
    this.ctx = ctx
    this.sealer = new Sealer(sealKey)
  }

  /** The head was found (start-up, lock held): seals count from here. */
  begin(): void {
    this.lastCount = countTo(this.ctx.at.cur!)
    this.lastTime = this.ctx.settings.now()
  }

  /** After a batch (lock held): seals if `sealEvery` records went by since the last seal. */
  afterBatch(): void {
    if (countTo(this.ctx.at.cur!) - this.lastCount >= this.ctx.settings.sealEvery) this.seal('interval')
  }

  /**
   * Appends a signed seal over the current head (lock held). A sealing
   * failure (an expired key, a clock before the key) is reported once and
   * logging goes on unsealed: the verifier shows the unsealed records.
   */
  seal(kind: SealKind): void {
    const { at, settings } = this.ctx
    const count = countTo(at.cur!)
    let meta
    try {
      meta = this.sealer.seal({ chain: at.chain, count, head: at.prev, time: settings.now(), kind, every: settings.sealInterval })
    } catch (err) {
      if (!this.errorReported) {
        this.errorReported = true
        this.ctx.emit('error', err instanceof ChainlogError ? err : new ChainlogError(ErrorCodes.IO_ERROR, `sealing failed: ${(err as Error).message}`, { cause: err }))
      }
      this.lastCount = count
      this.lastTime = settings.now()
      return
    }
    this.ctx.appendNow([metaLine(meta)])
    this.lastCount = count + 1
    this.lastTime = meta.time
    this.ctx.emit('seal', { count: count + 1, head: at.prev, time: meta.time, epoch: meta.epoch, kind })
  }

  /** Heartbeat: seal at least every sealInterval, also when nothing is logged. */
  startHeartbeat(turns: Turns): void {
    const every = this.ctx.settings.sealInterval
    const due = () => this.ctx.settings.now() - this.lastTime >= every * 0.9
    this.timer = setInterval(() => {
      if (turns.busy() || !due()) return
      turns.afterQueue(() => {
        if (due()) this.seal(countTo(this.ctx.at.cur!) > this.lastCount ? 'interval' : 'heartbeat')
      })
    }, Math.max(50, Math.floor(every / 4)))
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
