/**
 * Synchronous flush when the process exits without closing its logger
 * (`process.exit()`, an uncaught exception): the event loop will not run
 * again, so whatever is queued is appended before the process goes. Both
 * transports register their main-thread writers here.
 */
export interface Flushable {
  flushSync(): void
  once(event: 'close', listener: () => void): unknown
}

const open = new Map<Flushable, string>()

function flushAll(): void {
  for (const [target, who] of open) {
    try {
      target.flushSync()
    } catch (err) {
      process.stderr.write(`${who}: lines lost at exit: ${(err as Error).message}\n`)
    }
  }
}

/**
 * Flushes `target` synchronously on process exit until it emits `'close'`.
 * `who` names it in the one line printed if the flush fails.
 */
export function flushOnExit(target: Flushable, who: string): void {
  if (open.size === 0) process.on('exit', flushAll)
  open.set(target, who)
  target.once('close', () => {
    open.delete(target)
    if (open.size === 0) process.off('exit', flushAll)
  })
}
