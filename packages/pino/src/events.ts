import type { ChainHead, ForwardedEvents, WritableStreamEvents } from '@chainlog/core'

/**
 * Events of the transport. In a worker they are emitted on the stream that
 * `pino.transport()` returned; in the main thread, on the destination. The
 * names carry a prefix because one worker may host several targets.
 */
export const Events = {
  /** (path) a file was started. */
  NEW: 'chainlog:new',
  /** ({ from, to }) the log moved to the next file. */
  ROTATE: 'chainlog:rotate',
  /** (path) retention deleted a file (after recording it in the chain). */
  REMOVE: 'chainlog:remove',
  /** (path) a rotated file was gzipped (with `compress`) to this archive. */
  ARCHIVE: 'chainlog:archive',
  /** ({ files, current }) files beside the log that chainlog did not write (pino-roll's, say): left untouched; the chain goes on in `current`. */
  FOREIGN: 'chainlog:foreign',
  /** ({ file, reason, length }) a torn or broken tail was found and recorded. */
  RECOVERY: 'chainlog:recovery',
  /** ({ file, expected, found, next }) the file being written was cut or emptied by someone else (after an 'error' FILE_TRUNCATED): recorded, and logging goes on in `next`. */
  TRUNCATION: 'chainlog:truncation',
  /** (ChainHead) the head after a flush: keep `hash` and `count` elsewhere to detect truncation. */
  HEAD: 'chainlog:head',
  /** ({ refused }) a failing disk accepts writes again; `refused` lines were turned away meanwhile (BUFFER_FULL). */
  RESUME: 'chainlog:resume',
} as const

/** The writer's events under the transport's names, for core's forwardEvents: payloads go as plain data, which crosses threads by structured clone. */
export const FORWARDED = { new: Events.NEW, rotate: Events.ROTATE, remove: Events.REMOVE, archive: Events.ARCHIVE, foreign: Events.FOREIGN, recovery: Events.RECOVERY, truncation: Events.TRUNCATION, resume: Events.RESUME, error: 'error' } as const

/**
 * Every event the destination emits, with its arguments: chainlog's (in a
 * worker they reach the stream `pino.transport()` returned with the same
 * payloads) and the stream's own. The destination's `on`, `once` and `off` follow it.
 */
export interface ChainlogPinoEvents extends WritableStreamEvents, ForwardedEvents<typeof FORWARDED> {
  [Events.HEAD]: [head: ChainHead]
  /** The readable side (pino-abstract-transport's): runs of lines, as the destination hands them to core. */
  data: [run: string]
  end: []
  pause: []
  resume: []
  readable: []
}
