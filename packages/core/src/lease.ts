import type { LogLock } from './lock'

/** The longest a busy writer keeps the lock before letting others in, ms. */
const LEASE_MS = 50
/** How long the lock is kept after the last batch, for the next one, ms. */
const GRACE_MS = 2
/** After a full lease, how long a writer waits before asking for the lock again, ms. */
const COOLDOWN_MS = 2

/**
 * The log lock held across batches. Taking the lock costs a few metadata
 * syscalls (mkdir, utimes, stat, rmdir: over a millisecond on a journaling
 * file system), so a busy writer keeps it as a lease: up to LEASE_MS in all,
 * and released GRACE_MS after its last batch. After a full lease it waits
 * COOLDOWN_MS before asking again, so that writers polling for the lock get
 * their turn. Nobody else can append while the lease is held, so the writer
 * re-reads the head from disk only when it takes the lease afresh.
 */
export class Lease {
  readonly lock: LogLock
  private holding = false
  private start = 0
  private graceTimer: NodeJS.Timeout | undefined
  /** When the last batch under the current lease was appended. */
  private lastBatchAt = 0
  private cooldownUntil = 0

  constructor(lock: LogLock) {
    this.lock = lock
  }

  /** True while this writer holds the lock across batches. */
  get held(): boolean {
    return this.holding
  }

  /** How long to wait before asking for the lock again, in ms (0 or less: ask now). */
  cooldown(): number {
    return this.holding ? 0 : this.cooldownUntil - Date.now()
  }

  /** The lock was just taken and the head made fresh: the lease starts. */
  begin(): void {
    this.holding = true
    this.start = Date.now()
  }

  /**
   * After a batch: keep the lease for the next one, unless `done` (nothing
   * left to write while closing: let go now rather than after GRACE_MS) or
   * the lease is old enough that others deserve a turn.
   */
  afterBatch(done: boolean): void {
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
