/**
 * Keygen's Merkle leaves: one Ed25519 public key per epoch, a year of hourly
 * epochs by default. Deriving a public key is a scalar multiplication inside
 * OpenSSL, nearly all of keygen's time (#17), and the epochs' keys are
 * independent once their seeds are known, so the work is shared over the
 * machine's cores: this thread derives the seed at the start of each chunk
 * of epochs (cheap: one SHA-256 per epoch), and this thread and a few worker
 * threads (seal-leaves-worker.ts) take chunks in turn from a shared counter,
 * writing the leaves into shared memory.
 *
 * The result depends on the seed alone: a worker that never starts, fails or
 * stalls only leaves its chunks to this thread, which computes every chunk
 * not reported done. generateSealKeys() stays synchronous: this thread waits
 * with Atomics.wait, not on its event loop.
 */
import * as os from 'node:os'
import { Worker } from 'node:worker_threads'
import { evolve, writeLeaves } from './epoch-key'
import { workerScript } from './worker-script'

/** Epochs per chunk. */
export const LEAF_CHUNK = 64
/** Below this many epochs, starting a worker costs more than it saves. */
const MIN_PARALLEL_EPOCHS = 512
/** At most this many worker threads. */
const MAX_WORKERS = 7
/** With every chunk taken, how long this thread waits for a chunk to be done before computing it itself. */
const STALL_MS = 10_000

/**
 * The shared control words (Int32), then one state word per chunk.
 * @internal
 */
export const Control = { READY: 0, NEXT: 1, DONE: 2, FAILED: 3, CHUNKS: 4 } as const
/** A chunk's state word: taken by a thread, then done. @internal */
export const TAKEN = 1
export const DONE = 2

/** @internal */
export interface LeavesSetup {
  chainlogSealLeaves: true
  control: SharedArrayBuffer
  /** The seed at the start of each chunk, 32 bytes each; zeroed before the leaves are returned. */
  seeds: SharedArrayBuffer
  leaves: SharedArrayBuffer
  epochs: number
}

/**
 * Takes chunks from the shared counter until none is left, writing their
 * leaves; each thread runs it.
 * @internal
 */
export function takeChunks(setup: LeavesSetup): void {
  const control = new Int32Array(setup.control)
  const chunks = Math.ceil(setup.epochs / LEAF_CHUNK)
  const leaves = new Uint8Array(setup.leaves)
  for (;;) {
    const c = Atomics.add(control, Control.NEXT, 1)
    if (c >= chunks) return
    computeChunk(setup, c, control, leaves)
  }
}

function computeChunk(setup: LeavesSetup, c: number, control: Int32Array, leaves: Uint8Array): void {
  Atomics.store(control, Control.CHUNKS + c, TAKEN)
  const seed = Buffer.from(new Uint8Array(setup.seeds, c * 32, 32))
  writeLeaves(seed, c * LEAF_CHUNK, Math.min(setup.epochs, (c + 1) * LEAF_CHUNK), leaves)
  seed.fill(0)
  Atomics.store(control, Control.CHUNKS + c, DONE)
  Atomics.add(control, Control.DONE, 1)
  Atomics.notify(control, Control.DONE)
}

/**
 * The leaves of epochs [0, epochs) from seed s₀, 32 bytes each, concatenated.
 * `threads` caps the threads that take part, this one included (default: the
 * machine's available parallelism, at most 8).
 * @internal
 */
export function epochLeaves(seed0: Buffer, epochs: number, options: { threads?: number; script?: string | null } = {}): Buffer {
  const threads = Math.max(1, Math.min(options.threads ?? os.availableParallelism(), MAX_WORKERS + 1))
  const chunks = Math.ceil(epochs / LEAF_CHUNK)
  const script = options.script === undefined ? workerScript('seal-leaves-worker.js') : options.script
  if (threads === 1 || epochs < MIN_PARALLEL_EPOCHS || script === null) {
    const out = Buffer.alloc(epochs * 32)
    writeLeaves(seed0, 0, epochs, out)
    return out
  }
  const setup: LeavesSetup = {
    chainlogSealLeaves: true,
    control: new SharedArrayBuffer(4 * (Control.CHUNKS + chunks)),
    seeds: new SharedArrayBuffer(32 * chunks),
    leaves: new SharedArrayBuffer(32 * epochs),
    epochs,
  }
  const control = new Int32Array(setup.control)
  const seeds = new Uint8Array(setup.seeds)
  // Started first, so that they boot while this thread derives the chunks' seeds.
  const workers: Worker[] = []
  for (let i = 0; i < Math.min(threads - 1, chunks - 1); i++) {
    try {
      const w = new Worker(script, { workerData: setup })
      w.on('error', () => undefined)
      w.unref()
      workers.push(w)
    } catch {
      break
    }
  }
  try {
    let s: Buffer = Buffer.from(seed0)
    for (let c = 0; c < chunks; c++) {
      seeds.set(s, c * 32)
      for (let i = 0; i < LEAF_CHUNK && c + 1 < chunks; i++) {
        const next = evolve(s)
        s.fill(0)
        s = next
      }
    }
    s.fill(0)
    Atomics.store(control, Control.READY, 1)
    Atomics.notify(control, Control.READY)
    takeChunks(setup)
    waitForChunks(setup, control, chunks)
    return Buffer.from(new Uint8Array(setup.leaves))
  } finally {
    seeds.fill(0)
    for (const w of workers) void w.terminate()
  }
}

/** Waits until every chunk is done; computes here the chunks of a worker that failed or stalled. */
function waitForChunks(setup: LeavesSetup, control: Int32Array, chunks: number): void {
  let done = Atomics.load(control, Control.DONE)
  let since = Date.now()
  while (done < chunks) {
    if (Atomics.load(control, Control.FAILED) !== 0 || Date.now() - since > STALL_MS) {
      const leaves = new Uint8Array(setup.leaves)
      for (let c = 0; c < chunks; c++) if (Atomics.load(control, Control.CHUNKS + c) !== DONE) computeChunk(setup, c, control, leaves)
      return
    }
    Atomics.wait(control, Control.DONE, done, 100)
    const now = Atomics.load(control, Control.DONE)
    if (now !== done) since = Date.now()
    done = now
  }
}
