import type { ChainHead, ChainWriter, ForeignEvent, RecoveryEvent, ResumeEvent, RotateEvent, TruncationEvent, WritableStreamEvents } from '@chainlog/core'
import type { Emit } from './bridge'

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

/**
 * Every event the destination emits, with its arguments: chainlog's (in a
 * worker they reach the stream `pino.transport()` returned with the same
 * payloads) and the stream's own. The destination's `on`, `once` and `off` follow it.
 */
export interface ChainlogPinoEvents extends WritableStreamEvents {
  [Events.NEW]: [file: string]
  [Events.ROTATE]: [event: RotateEvent]
  [Events.REMOVE]: [file: string]
  [Events.ARCHIVE]: [file: string]
  [Events.FOREIGN]: [event: ForeignEvent]
  [Events.RECOVERY]: [event: RecoveryEvent]
  [Events.TRUNCATION]: [event: TruncationEvent]
  [Events.HEAD]: [head: ChainHead]
  [Events.RESUME]: [event: ResumeEvent]
  /** The readable side (pino-abstract-transport's): runs of lines, as the destination hands them to core. */
  data: [run: string]
  end: []
  pause: []
  resume: []
  readable: []
}

/** Reports the writer's events under the transport's names, as plain data (in a worker they cross threads by structured clone). */
export function forwardEvents(writer: ChainWriter, report: Emit): void {
  writer.on('new', (file: string) => report(Events.NEW, file))
  writer.on('rotate', (e: RotateEvent) => report(Events.ROTATE, { from: e.from, to: e.to }))
  writer.on('remove', (file: string) => report(Events.REMOVE, file))
  writer.on('archive', (file: string) => report(Events.ARCHIVE, file))
  writer.on('foreign', (e: ForeignEvent) => report(Events.FOREIGN, { files: [...e.files], current: e.current }))
  writer.on('recovery', (e: object) => report(Events.RECOVERY, { ...e }))
  writer.on('truncation', (e: TruncationEvent) => report(Events.TRUNCATION, { ...e }))
  writer.on('resume', (e: ResumeEvent) => report(Events.RESUME, { refused: e.refused }))
  writer.on('error', (err: Error) => report('error', err))
}
