/**
 * `@chainlog/core/format`: the format layer (docs/FORMAT.md), pure functions
 * and types with no I/O, for third-party verifiers, fuzzers and tools that
 * read or write records themselves, and the streaming {@link ChainVerifier}
 * that applies the chain's rules to bytes they feed it. Applications want
 * `@chainlog/core`.
 */
export { ALGORITHMS, createHashFn, isAlgorithm, keyId, MIN_KEY_BYTES, type Algorithm, type HashFn, type Implementation } from './algorithm'
export { FORMAT_VERSION, isHeader, isKnownMeta, metaLine, parseMeta, type ArchiveMeta, type CheckpointMeta, type DeletedFile, type FileEnd, type HeaderMeta, type Meta, type RecoveryMeta, type RetentionMeta, type TruncationMeta, type UnknownMeta } from './meta'
export { encodeRecord, escapeLine, ESCAPE_PREFIX, GENESIS, hasRecordBounds, HASH_HEX, isHash, isHashBytes, lineKind, META_PREFIX, parseRecord, RECORD_OVERHEAD, unescapeLine, type LineKind, type Record } from './record'
export { checkSealSignature, epochOf, rootFromProof, SEAL_ALGORITHM, Sealer, sealMessage, type SealKind, type SealMeta } from './seal'
export { ChainVerifier } from './verifier'
export { CompactTree, EMPTY_ROOT, leafHash, MerkleTree, nodeHash, recordLeaf, rootFromInclusion, TREE_HASH_BYTES, verifyConsistency, verifyInclusion, type ProofCheck, type ProofFailure, type TreeHash } from './tree'
export { checkSignature, cosignedMessage, formatNote, formatVerifierKey, isKeyName, noteKeyId, NoteSigner, openNote, parseNote, parseVerifierKey, SignatureTypes, type Note, type NoteSignature, type NoteVerifier, type OpenedNote, type SignatureType, type VerifiedSignature } from './note'
export { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint, type Checkpoint, type OpenedCheckpoint } from './checkpoint'
