import type { ChainlogError } from './errors'

/**
 * The flushes waiting for the writer's queue: each resolves once the count
 * of appended records passes the mark it was given (the records queued when
 * it was called), and all of them reject when the disk fails or the log
 * cannot be opened.
 */
export class FlushWaiters {
  private waiting: { target: number; resolve: () => void; reject: (err: Error) => void }[] = []

  /** A flush that resolves once `target` records are appended. */
  wait(target: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ target, resolve, reject })
    })
  }

  /** `appended` records are appended: the flushes whose mark they passed resolve. */
  settle(appended: number): void {
    if (this.waiting.length === 0) return
    const still: typeof this.waiting = []
    for (const w of this.waiting) (appended >= w.target ? w.resolve() : still.push(w))
    this.waiting = still
  }

  /** Every flush waiting fails with `err`. */
  reject(err: ChainlogError): void {
    for (const w of this.waiting.splice(0)) w.reject(err)
  }
}
