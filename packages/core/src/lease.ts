import { ChainlogError, fromSystemError } from './errors'
import type { Lock } from './lock'

/** The longest a busy writer keeps the lock before letting others in, ms. */
const LEASE_MS = 50
/** How long the lock is kept after the last batch, for the next one, ms. */
const GRACE_MS = 2
/** After a full lease, how long a writer waits before asking for the lock again, ms. */
const COOLDOWN_MS = 2
/** While the disk fails, how often the queue is tried again, ms. */
const RETRY_MS = 500

/** Thrown inside a turn when the lock was taken over or the file moved: nothing was written. */
export class HeadMoved extends Error {}

/** What the lease asks of the writer whose turns it runs. */
export interface LeaseClient {
  /** Lines wait and may be appended now (the log is open, the disk not failing). */
  pending(): boolean
  /** The failure the disk is in, if any. */
  failure(): ChainlogError | null
  /** Closing, and nothing is left to write: the lease goes at once. */
  finished(): boolean
  /** Closing (a timer's turn is skipped). */
  closing(): boolean
  /** The lease is taken afresh: the head may have moved; read it again (lock held). */
  refresh(): void
  /** Appends what is queued, a bounded amount of batches (lock held). */
  appendQueue(): void
  /** Appends everything queued (lock held). */
  appendAll(): void
  /** A turn failed for a reason other than HeadMoved. */
  failed(err: unknown): void
  /** The lock was lost before a write (HeadMoved): nothing was written. */
  lost(): void
}

/**
 * The writer's turns under the log lock: when it takes the lock (now, or
 * waiting in the background), how long it keeps it, the turns of the rooms'
 * timers, and the retries while the disk fails.
 *
 * The log lock is held across batches. Taking the lock costs a few metadata
 * syscalls (mkdir, utimes, stat, rmdir: over a millisecond on a journaling
 * file system), so a busy writer keeps it as a lease: up to LEASE_MS in all,
 * and released GRACE_MS after its last batch. After a full lease it waits
 * COOLDOWN_MS before asking again, so that writers polling for the lock get
 * their turn. Nobody else can append while the lease is held, so the writer
 * re-reads the head from disk only when it takes the lease afresh.
 */
export class Lease {
  readonly lock: Lock
  private holding = false
  private start = 0
  private graceTimer: NodeJS.Timeout | undefined
  /** When the last batch under the current lease was appended. */
  private lastBatchAt = 0
  private cooldownUntil = 0
  private readonly client: LeaseClient
  private scheduled = false
  private waiting = false
  private retryTimer: NodeJS.Timeout | undefined

  constructor(lock: Lock, client: LeaseClient) {
    this.lock = lock
    this.client = client
  }

  /** True while this writer holds the lock across batches. */
  get held(): boolean {
    return this.holding
  }

  /** Runs the queue on the next turn of the event loop (once however often asked). */
  schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.pumpBound)
  }

  private readonly pumpBound = () => {
    this.scheduled = false
    this.pump()
  }

  /**
   * Appends the queue now if the lock is free; otherwise waits for it in the
   * background. Lines queued meanwhile join the next batch.
   */
  pump(): void {
    // While the disk fails, the retry timer alone tries again.
    if (this.waiting || !this.client.pending()) return
    const wait = this.holding ? 0 : this.cooldownUntil - Date.now()
    if (wait > 0) {
      if (!this.scheduled) {
        this.scheduled = true
        setTimeout(this.pumpBound, wait)
      }
      return
    }
    if (this.tryLock()) {
      this.turn(() => this.client.appendQueue())
      return
    }
    if (this.client.failure()) return
    this.waiting = true
    void this.lock.acquire().then(() => {
      this.waiting = false
      this.turn(() => this.client.appendQueue())
    }, (err: unknown) => this.lockFailed(err))
  }

  /**
   * Takes the lock if it is free. A lock that cannot be taken at all (its
   * directory was removed, permissions changed) fails the writer like a failed
   * write, rather than throwing out of a timer and taking the process down.
   */
  private tryLock(): boolean {
    try {
      return this.lock.tryAcquire()
    } catch (err) {
      this.lockFailed(err)
      return false
    }
  }

  private lockFailed(err: unknown): void {
    this.waiting = false
    this.client.failed(err instanceof ChainlogError ? err : fromSystemError(err, 'take the lock', `${this.lock.path}.lock`))
  }

  /**
   * Runs `fn` with the lock held (it must be held on entry), under the lease:
   * the head is made fresh when the lease is taken afresh. Returns false if
   * it failed.
   */
  turn(fn: () => void): boolean {
    let ok = true
    try {
      if (!this.holding) {
        this.client.refresh()
        this.holding = true
        this.start = Date.now()
      }
      fn()
    } catch (err) {
      ok = false
      this.drop()
      if (err instanceof HeadMoved) {
        // Nothing was written; the queue is intact. Try again with the lock taken afresh.
        this.client.lost()
        this.schedule()
        return false
      }
      this.client.failed(err)
    }
    if (ok) this.afterBatch(this.client.finished())
    if (this.client.pending()) this.schedule()
    return ok
  }

  /** Runs `fn` under the lock, taking it afresh if it was lost before anything was written. */
  async locked(fn: () => void): Promise<void> {
    for (;;) {
      await this.lock.acquire()
      if (this.turn(fn)) return
      const failure = this.client.failure()
      if (failure) throw failure
    }
  }

  /** How the rooms' timers take their turn under the lock. */
  readonly turns: Turns = {
    busy: () => this.client.closing() || this.waiting || this.client.failure() !== null,
    afterQueue: (fn) => {
      this.waiting = true
      void this.lock.acquire().then(() => {
        this.waiting = false
        this.turn(() => {
          this.client.appendQueue()
          fn()
        })
      }, (err: unknown) => this.lockFailed(err))
    },
    whenLocked: (fn) => this.lock.acquire().then(() => void this.turn(fn), (err: unknown) => this.lockFailed(err)),
  }

  /**
   * While the disk fails: tries the whole queue again every RETRY_MS until a
   * turn goes through, then calls `recovered` (once however often asked).
   */
  retryUntil(recovered: () => void): void {
    if (this.retryTimer) return
    this.retryTimer = setInterval(() => {
      if (!this.tryLock()) return
      if (!this.turn(() => this.client.appendAll())) return
      this.stopRetry()
      recovered()
    }, RETRY_MS)
    this.retryTimer.unref()
  }

  /** No more retries (the disk took the queue, or the writer is closing). */
  stopRetry(): void {
    clearInterval(this.retryTimer)
    this.retryTimer = undefined
  }

  /**
   * After a batch: keep the lease for the next one, unless `done` (nothing
   * left to write while closing: let go now rather than after GRACE_MS) or
   * the lease is old enough that others deserve a turn.
   */
  private afterBatch(done: boolean): void {
    if (done) {
      this.drop()
      return
    }
    if (Date.now() - this.start >= LEASE_MS) {
      this.drop()
      // Let writers polling for the lock in, before we ask for it again.
      this.cooldownUntil = Date.now() + COOLDOWN_MS
      return
    }
    // One timer per lease, not one per batch: when it fires it lets go if no
    // batch came for GRACE_MS, and otherwise waits out the rest.
    this.lastBatchAt = Date.now()
    if (!this.graceTimer) this.armGrace(GRACE_MS)
  }

  private armGrace(ms: number): void {
    this.graceTimer = setTimeout(this.graceBound, ms)
    this.graceTimer.unref()
  }

  private readonly graceBound = () => {
    this.graceTimer = undefined
    if (!this.holding) return
    const idle = Date.now() - this.lastBatchAt
    if (idle >= GRACE_MS) this.drop()
    else this.armGrace(GRACE_MS - idle)
  }

  /** Ends the lease and releases the lock. */
  drop(): void {
    clearTimeout(this.graceTimer)
    this.graceTimer = undefined
    this.holding = false
    this.lock.releaseLock()
  }
}

/**
 * How a room's timer (the seal heartbeat, time rotation) gets a turn under
 * the lock. The writer implements it: the turn runs as one of its batches
 * does, with the lease, the fresh head and the failure handling.
 */
export interface Turns {
  /** Closing, failing, or already waiting for the lock: a periodic check skips this tick. */
  busy(): boolean
  /** Waits for the lock, appends what is queued, then runs `fn` (lock held). Counts as waiting for the lock meanwhile. */
  afterQueue(fn: () => void): void
  /** Waits for the lock and runs `fn` (lock held). Settles either way: a failure is the writer's to report. */
  whenLocked(fn: () => void): Promise<void>
}
