/**
 * `@chainlog/core`: what an application needs: the writer, `verify`, the
 * errors and the types they use. The format layer (records, metadata,
 * escaping, hash functions) is `@chainlog/core/format`.
 */
export { ChainlogError, ErrorCodes, invalidOption, systemErrorMeaning, type ErrorCode, type SystemErrorContext, type SystemErrorMeaning } from './errors'
export { archiveFiles, type ArchiveOptions, type ArchiveResult } from './archive'
export { loadKey } from './key'
export { withoutDatePlaceholder } from './naming'
export { periodOfDateUnit, translateDatePattern, type DateUnit } from './date-pattern'
export { forwardEvents, type EventNames, type ForwardedEvent, type ForwardedEvents } from './forward'
export { checkOptionNames, checkWriterOptions, nextBoundary, parseBoolean, parseFrequency, parseSize, periodStart, type ChainWriterOptions, type Frequency, type OptionNames, type Refusal } from './settings'
export { ChainWriter, createChainWriter, openChainWriter, type OpenOptions } from './writer'
export type { ChainHead } from './discovery'
export type { ChainWriterEvents, ForeignEvent, RecoveryEvent, ResumeEvent, RotateEvent, SealEvent, TruncationEvent, TypedEmitter, WritableStreamEvents } from './events'
export { BreakReasons, Verdicts, type Break, type BreakReason, type FileSummary, type Head, type HeadCheck, type LineLocation, type SegmentPlace, type Shortfall, type TornTail, type Verdict, type VerifierOptions, type VerifyReport } from './report'
export type { SkippedFile } from './inputs'
export { verify, type VerifyOptions } from './verify'
export { readState, verifyWithState, type ClosedFile, type OpenFile, type StateOutcome, type VerifyState } from './verify-state'
export { generateSealKeys, loadVerifyKey, writeSealKeys, type SealState, type VerifyKey } from './seal'
export { SEAL_SLACK_MS, SealNoticeKinds, SealReasons, type SealNotice, type SealNoticeKind, type SealReason, type SealSummary } from './seal-audit'
export { flushOnExit, type Flushable } from './exit'
export { verifyShipped } from './shipped'
export { ShippedReasons, type ShippedChain, type ShippedOptions, type ShippedProblem, type ShippedReason, type ShippedRecord, type ShippedReport, type ShippedRun, type ShippedVerdict } from './shipped-report'
export { Envelopes, type Envelope } from './envelope'
export { describeHashPath, hashPath, type HashPath } from './hash-path'
export { chainTree, type ChainTree, type ChainTreeOptions, type RecordPlace } from './chain-tree'
export { checkpointFile, cosignedFile, loadCheckpointKey, loadVerifierKey, readCheckpointFile, replaceFile, writeCheckpointKeys } from './checkpoint-file'
export { exitOnSignals, type ExitOnSignalsOptions, type SignalFlushable } from './signals'
