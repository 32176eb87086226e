import type { ChainHead, ForwardedEvents, WritableStreamEvents } from '@chainlog/core'

/**
 * Events of the transport. In a worker they are emitted on the stream that
 * `pino.transport()` returned; in the main thread, on the destination. The
 * names carry a prefix because one worker may host several targets. Each but
 * `HEAD` is the core writer's event of the same name, with its payload
 * (ChainWriterEvents says what each carries).
 */
export const Events = {
  NEW: 'chainlog:new',
  ROTATE: 'chainlog:rotate',
  REMOVE: 'chainlog:remove',
  ARCHIVE: 'chainlog:archive',
  FOREIGN: 'chainlog:foreign',
  RECOVERY: 'chainlog:recovery',
  TRUNCATION: 'chainlog:truncation',
  /** (ChainHead) the head after a flush: keep `hash` and `count` elsewhere to detect truncation. */
  HEAD: 'chainlog:head',
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
