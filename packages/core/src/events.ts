import type { ChainlogError } from './errors'
import type { SealKind } from './seal'

/**
 * The events of the writer: the typed map its `on`, `once`, `off` and
 * `emit` follow, and their payloads. The rooms beside the writer import
 * these types without importing the writer.
 */

/** Payload of `'rotate'`. */
export interface RotateEvent {
  from: string
  to: string
}

/** Payload of `'resume'`: how many lines were refused (BUFFER_FULL) while the disk failed. */
export interface ResumeEvent {
  refused: number
}

/** Payload of `'recovery'`. */
export interface RecoveryEvent {
  file: string
  reason: 'torn-tail' | 'broken-tail'
  length?: number
}

/**
 * Payload of `'truncation'`: the file this writer appended to was cut short,
 * emptied, or ends in a record it did not write. The writer went on in a new
 * file whose first record says so; the verifier reports the cut as a break.
 */
export interface TruncationEvent {
  /** The file found cut. */
  file: string
  /** Its size and complete lines when this writer last appended to it; null when no writer had it open. */
  expected: { size: number; lines: number } | null
  found: { size: number; lines: number }
  /** The new file the writer goes on in. */
  next: string
}

/**
 * Payload of `'foreign'`: files beside the log that chainlog did not write
 * (pino-roll's `app.1.log`, winston-daily-rotate-file's `app-2026-11-22.log`,
 * a plain `app.log`). They are left as they are: never appended to,
 * compressed or deleted, not even by retention. The chain goes on beside
 * them, in `current`.
 */
export interface ForeignEvent {
  /** Absolute paths, sorted. */
  files: string[]
  /** The chain file the writer appends to. */
  current: string
}

/** Payload of `'seal'`: the seal just appended. */
export interface SealEvent {
  /** Chain position after the seal record. */
  count: number
  /** Hash of the seal record: the new head. */
  head: string
  time: number
  epoch: number
  kind: SealKind
}

/**
 * Every event a ChainWriter emits, with its arguments. The writer's
 * `on`, `once`, `off` and `emit` are typed by it.
 */
export interface ChainWriterEvents {
  /** The log is open (its head found or its first file started): lines written before are appended from now on. */
  ready: []
  /** A file this writer started, the first one too. */
  new: [file: string]
  rotate: [event: RotateEvent]
  /** A file deleted by retention (after the retention record naming it was written). */
  remove: [file: string]
  /** A rotated file was gzipped (with `compress`): the archive's path; the plain file is gone. */
  archive: [file: string]
  /** A torn or broken tail was found and recorded. */
  recovery: [event: RecoveryEvent]
  /** The file being written was cut or emptied by someone else; recorded, and the writer goes on in a new file (after an `'error'` FILE_TRUNCATED). */
  truncation: [event: TruncationEvent]
  /** Files beside the log that chainlog did not write were found when the log opened; they are left untouched. */
  foreign: [event: ForeignEvent]
  /** A seal was appended (with `sealKey`). */
  seal: [event: SealEvent]
  /** The lock was lost before a write (another writer took it over as stale): nothing was written; the batch is redone under a fresh lock. */
  lockLost: []
  /** write() returned false, and the queue has gone down since. */
  drain: []
  /**
   * A failure: the first failed append of a failing spell (DISK_FULL, IO_ERROR,
   * …), the first refusal of one (BUFFER_FULL), LOCK_LOST, FILE_REMOVED,
   * FILE_TRUNCATED, a
   * sealing failure, a symlink, compression or deletion that failed; and
   * for openChainWriter, the log that could not be opened.
   */
  error: [err: ChainlogError]
  /** A failing disk takes writes again; `refused` lines were turned away meanwhile (BUFFER_FULL). */
  resume: [event: ResumeEvent]
  /** close() has finished, or the log could not be opened (after its `'error'`). */
  close: []
}

/** A typed emit, narrowed to the events `K` (what a room beside the writer may emit). */
export type Emit<K extends keyof ChainWriterEvents> = <E extends K>(event: E, ...args: ChainWriterEvents[E]) => void

/**
 * The listener methods of an emitter typed by the event map `M`, for the
 * transports' streams, which Node types untyped: a transport's type is its
 * stream's without these (`Omit<Stream, keyof TypedEmitter<M>>`) and with
 * them typed, so that a misspelt event name or a wrong payload fails to compile.
 */
export interface TypedEmitter<M extends { [K in keyof M]: unknown[] }> {
  on<K extends keyof M>(event: K, listener: (...args: M[K]) => void): this
  once<K extends keyof M>(event: K, listener: (...args: M[K]) => void): this
  off<K extends keyof M>(event: K, listener: (...args: M[K]) => void): this
  addListener<K extends keyof M>(event: K, listener: (...args: M[K]) => void): this
  removeListener<K extends keyof M>(event: K, listener: (...args: M[K]) => void): this
  prependListener<K extends keyof M>(event: K, listener: (...args: M[K]) => void): this
  prependOnceListener<K extends keyof M>(event: K, listener: (...args: M[K]) => void): this
  emit<K extends keyof M>(event: K, ...args: M[K]): boolean
}

/** The events of every Node writable stream, which both transports' streams are. */
export interface WritableStreamEvents {
  close: []
  drain: []
  error: [err: Error]
  finish: []
  pipe: [src: NodeJS.ReadableStream]
  unpipe: [src: NodeJS.ReadableStream]
}
