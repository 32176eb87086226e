import * as fs from 'node:fs'
// Loaded with the module, never on first use: proper-lockfile installs
// signal-exit's SIGTERM/SIGINT handlers as it loads, and signal-exit re-raises
// a signal when its handlers are the only ones left. Loaded after an
// application's own `process.once('SIGTERM', …)`, it would run after that
// handler had removed itself, and kill the process before the application's
// shutdown could end the logger (test/conformance, 'nothing lost at shutdown').
import * as lockfile from 'proper-lockfile'
import { ChainlogError, ErrorCodes, fromSystemError } from './errors'

/**
 * The exclusive lock every writer of one log takes around each batch append
 * (docs/FORMAT.md §12). It is proper-lockfile's mkdir lock on `<base>.lock`
 * (atomic on local and network file systems), taken synchronously so that
 * acquire, re-read of the head, append and release happen in one tick.
 *
 * A holder killed with SIGKILL leaves the lock directory behind; proper-lockfile
 * treats it as stale once its mtime is older than `staleMs` and the next
 * writer takes it over, so a dead writer blocks the others for at most about
 * `staleMs`. A live holder never keeps it longer than one batch.
 */
export class LogLock {
  readonly path: string
  private readonly staleMs: number
  private release: (() => void) | null = null
  private readonly onCompromised: (err: Error) => void
  /** Inode of the lock directory this writer made, and when it last made sure of it. */
  private ino = 0
  private confirmedAt = 0

  constructor(base: string, options: { staleMs: number; onCompromised: (err: Error) => void }) {
    this.path = base
    this.staleMs = options.staleMs
    this.onCompromised = options.onCompromised
  }

  get held(): boolean {
    return this.release !== null
  }

  /** Takes the lock if it is free (or stale). Returns false if another writer holds it. */
  tryAcquire(): boolean {
    if (this.release) return true
    try {
      this.release = lockfile.lockSync(this.path, { realpath: false, stale: this.staleMs, onCompromised: this.onCompromised })
      this.ino = fs.statSync(`${this.path}.lock`).ino
      this.confirmedAt = Date.now()
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return false
      // EACCES, ENOSPC, a removed directory: the same stable codes as the log file's own errors.
      throw fromSystemError(err, 'take the lock', `${this.path}.lock`)
    }
  }

  /**
   * Makes sure the lock is still this writer's before it writes. A writer
   * starved of CPU for longer than `staleMs` while holding the lock looks dead
   * to the others, who may take the lock over; writing then would fork the
   * chain. So before every append the holder checks that the lock directory
   * is still the one it made, and renews its mtime, which keeps it from
   * looking stale for another `staleMs`. Returns false if the lock was lost.
   */
  confirm(): boolean {
    if (!this.release) return false
    const now = Date.now()
    // Freshly taken or confirmed: nobody can have judged it stale yet.
    if (now - this.confirmedAt < Math.min(1000, this.staleMs / 4)) return true
    try {
      if (fs.statSync(`${this.path}.lock`).ino !== this.ino) return false
      const t = new Date(now)
      fs.utimesSync(`${this.path}.lock`, t, t)
    } catch {
      return false
    }
    this.confirmedAt = now
    return true
  }

  /**
   * Waits for the lock, polling with a short randomized backoff, and letting
   * the event loop run meanwhile (a writer in this process may hold it).
   * @throws ChainlogError LOCK_TIMEOUT past `deadline` (ms since the epoch), saying what waited (`what`)
   */
  async acquire(deadline = Infinity, what = 'write'): Promise<void> {
    let delay = 1
    while (!this.tryAcquire()) {
      if (Date.now() > deadline) throw new ChainlogError(ErrorCodes.LOCK_TIMEOUT, `could not take the lock ${this.path}.lock to ${what}`)
      await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay))
      delay = Math.min(delay * 2, 4)
    }
  }

  /**
   * Takes the lock, blocking the thread (for exit paths, where the event
   * loop will not run again) until `deadline` (ms since the epoch).
   * @throws ChainlogError LOCK_TIMEOUT past the deadline, saying what waited (`what`)
   */
  acquireSync(deadline: number, what: string): void {
    const nap = new Int32Array(new SharedArrayBuffer(4))
    while (!this.tryAcquire()) {
      if (Date.now() > deadline) throw new ChainlogError(ErrorCodes.LOCK_TIMEOUT, `could not take the lock ${this.path}.lock to ${what}`)
      Atomics.wait(nap, 0, 0, 2)
    }
  }

  releaseLock(): void {
    const release = this.release
    this.release = null
    if (!release) return
    try {
      release()
    } catch {
      // Already released or compromised (taken over as stale); onCompromised reported it.
    }
  }
}

/** What the lease and the opening ask of a lock: the log's, or a stream's ({@link StreamLock}). */
export type Lock = Pick<LogLock, 'path' | 'held' | 'tryAcquire' | 'confirm' | 'acquire' | 'acquireSync' | 'releaseLock'>

/**
 * The lock of a chain on a stream: nothing to share, since no other writer
 * appends to this chain (each process on a stream writes a chain of its
 * own), so it is always free. Holding it still marks the writer's turns,
 * which the lease, the seals and the exit flush go by.
 */
export class StreamLock implements Lock {
  readonly path: string
  private holding = false

  constructor(name: string) {
    this.path = name
  }

  get held(): boolean {
    return this.holding
  }

  tryAcquire(): boolean {
    this.holding = true
    return true
  }

  confirm(): boolean {
    return this.holding
  }

  acquire(): Promise<void> {
    this.holding = true
    return Promise.resolve()
  }

  acquireSync(): void {
    this.holding = true
  }

  releaseLock(): void {
    this.holding = false
  }
}
