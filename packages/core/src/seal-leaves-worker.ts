/**
 * A worker thread of {@link epochLeaves}: waits until the chunks' seeds are
 * ready, then takes chunks of epochs until none is left. A failure is flagged
 * in the shared control words, and the main thread computes the chunk again.
 */
import { workerData } from 'node:worker_threads'
import { Control, takeChunks, type LeavesSetup } from './seal-leaves'

function serve(setup: LeavesSetup): void {
  const control = new Int32Array(setup.control)
  try {
    Atomics.wait(control, Control.READY, 0)
    takeChunks(setup)
  } catch {
    Atomics.store(control, Control.FAILED, 1)
    Atomics.notify(control, Control.DONE)
  }
}

if ((workerData as LeavesSetup | undefined)?.chainlogSealLeaves) serve(workerData as LeavesSetup)
