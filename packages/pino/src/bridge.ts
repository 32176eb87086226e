import { isMainThread, parentPort, workerData } from 'node:worker_threads'

/**
 * Sends an event to the main thread's transport stream. thread-stream turns a
 * worker message `{ code: 'EVENT', name, args }` into `stream.emit(name, ...args)`
 * on the object `pino.transport()` returned (thread-stream/index.js,
 * onWorkerMessage). Arguments cross the thread by structured clone, so they
 * must be plain data; an Error keeps its message and stack but not its `code`,
 * which is why chainlog's messages start with the code.
 */
export type Emit = (name: string, ...args: unknown[]) => void

/** True inside a worker started by thread-stream (pino.transport), which sets these fields. */
export function inThreadStream(): boolean {
  if (isMainThread || !parentPort) return false
  const data = workerData as { dataBuf?: unknown; workerData?: { $context?: unknown } } | null
  return !!data && data.dataBuf instanceof SharedArrayBuffer && typeof data.workerData?.$context === 'object'
}

/** An emitter that reaches the main thread from a thread-stream worker. */
export function toMainThread(): Emit {
  const port = parentPort!
  return (name, ...args) => port.postMessage({ code: 'EVENT', name, args })
}
