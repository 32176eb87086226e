/**
 * `@chainlog/core`: what an application needs: the writer, `verify`, the
 * errors and the types they use. The format layer (records, metadata,
 * escaping, hash functions) is `@chainlog/core/format`.
 */
export { ChainlogError, ErrorCodes, invalidOption, systemErrorMeaning, type ErrorCode, type SystemErrorContext, type SystemErrorMeaning } from './errors'
export { archiveFiles, type ArchiveOptions, type ArchiveResult } from './archive'
export { loadKey } from './key'
export { checkOptionNames, checkWriterOptions, nextBoundary, parseBoolean, parseFrequency, parseSize, periodStart, type ChainWriterOptions, type Frequency, type OptionNames, type Refusal } from './settings'
export { ChainWriter, createChainWriter, openChainWriter, type OpenOptions } from './writer'
export type { ChainHead } from './discovery'
export type { ChainWriterEvents, RecoveryEvent, ResumeEvent, RotateEvent, SealEvent, TruncationEvent } from './events'
export { BreakReasons, Verdicts, type Break, type BreakReason, type FileSummary, type Head, type HeadCheck, type LineLocation, type Shortfall, type TornTail, type Verdict, type VerifierOptions, type VerifyReport } from './report'
export { verify, type VerifyOptions } from './verify'
export { generateSealKeys, loadVerifyKey, writeSealKeys, type SealState, type VerifyKey } from './seal'
export { SealReasons, type SealReason, type SealSummary } from './seal-audit'
export { flushOnExit, type Flushable } from './exit'
export { recordTime } from './record-time'
export { verifyShipped } from './shipped'
export { ShippedReasons, type ShippedChain, type ShippedCheckpoint, type ShippedOptions, type ShippedProblem, type ShippedReason, type ShippedRecord, type ShippedReport, type ShippedRun, type ShippedVerdict } from './shipped-report'
export { Envelopes, type Envelope } from './envelope'
