/**
 * Pulling a record out of a line that a shipper or a central store wrapped
 * (issue #15). Each format below is taken from the document named beside it;
 * docs/OPERATIONS.md has the same list as a table.
 *
 * - a bare record (FORMAT.md §2);
 * - a JSON object holding the record in a string member: Loki's
 *   `logcli query --output=jsonl` (`line`), Elasticsearch hits
 *   (`_source.message`, `_source.log`), Vector and Fluent Bit JSON output
 *   (`message`, `log`), Docker's json-file log (`log`, split at 16 KiB), or
 *   the member named by `field` (a dotted path);
 * - a CRI container log line (`<time> <stream> <P|F> <text>`);
 * - a syslog line (RFC 5424, or RFC 3164 as rsyslog writes it), whose message
 *   part is the record.
 */
import { HASH_HEX } from './record'

/** The wrappers {@link EnvelopeReader} recognises, as counted in the shipped report. */
export const Envelopes = {
  /** The record itself (FORMAT.md §2). */
  RECORD: 'record',
  /** A JSON object whose member named by `--field` holds the record. */
  FIELD: 'field',
  /** Loki, `logcli query --output=jsonl`: `{"labels":…,"line":"…","timestamp":"…"}`. */
  LOKI: 'loki',
  /** An Elasticsearch hit (`_search`, elasticdump): `{"_index":…,"_source":{"message"|"log":"…"}}`. */
  ELASTICSEARCH: 'elasticsearch',
  /** Docker's json-file driver: `{"log":"…\n","stream":"stdout","time":"…"}`, split at 16 KiB. */
  DOCKER: 'docker',
  /** Vector's or Fluent Bit's JSON output: `{"message":"…"}` or `{"log":"…"}`. */
  JSON: 'json',
  /** The CRI container log format the kubelet writes: `<time> <stream> <P|F> <text>`. */
  CRI: 'cri',
  /** A syslog line (RFC 5424, RFC 3164, or rsyslog's file formats). */
  SYSLOG: 'syslog',
} as const
export type Envelope = (typeof Envelopes)[keyof typeof Envelopes]

/** What one input line gave: a candidate record (with the line it started on), nothing yet (a partial), or no record. */
export type Extracted =
  | { kind: 'text'; text: string; envelope: Envelope; line: number }
  | { kind: 'partial' }
  | { kind: 'none'; envelope: Envelope | null; line: number }

const HEX = /^[0-9a-f]{64}\|/
// CRI log line (kubernetes/design-proposals, node/kubelet-cri-logging.md): RFC 3339 time, stream, tag, text.
const CRI = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([PF])(?::\S*)? (.*)$/s
// RFC 5424 §6: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
const RFC5424 = /^<\d{1,3}>\d{1,2} \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]"\\]|\\.|"(?:[^"\\]|\\.)*")*\])+)(?: (?:\uFEFF)?|$)/
// RFC 3164 §4.1 (the PRI optional, as in files): TIMESTAMP ("Mmm dd hh:mm:ss", or RFC 3339 as rsyslog's
// RSYSLOG_FileFormat writes it) SP HOSTNAME SP TAG (up to 32 characters, with '[pid]' and ':' or, for a
// message received as RFC 5424, the APP-NAME alone) and the one SP rsyslog's templates put before the message.
const RFC3164 = /^(?:<\d{1,3}>)?(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) \S+ [^\s:[]{1,48}(?:\[[^\]\s]*\])?:? ?/

/**
 * Reads the lines of one input in order and gives back the records they
 * carry. It keeps state only to join what was split: Docker json-file
 * entries whose `log` does not end in LF, and CRI `P` (partial) lines, are
 * joined with what follows on the same stream, as the engines write them.
 */
export class EnvelopeReader {
  private readonly path: string[] | null
  private readonly pending = new Map<string, { text: string; line: number; envelope: Envelope }>()

  /** @param field a dotted path (`kubernetes.log`, `_source.event.original`) to the member that holds the record. */
  constructor(field?: string) {
    this.path = field === undefined ? null : field.split('.')
  }

  /** The record candidate of one input line (without its LF), numbered `line` (1-based). */
  read(raw: string, line: number): Extracted {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (HEX.test(text)) return { kind: 'text', text, envelope: Envelopes.RECORD, line }
    const c = text.charCodeAt(0)
    if (c === 0x7b /* { */) return this.json(text, line)
    const cri = CRI.exec(text)
    if (cri) return this.join(`cri:${cri[2]}`, cri[4]!, cri[3] === 'P', Envelopes.CRI, line)
    const syslog = RFC5424.exec(text) ?? RFC3164.exec(text)
    if (syslog) return { kind: 'text', text: text.slice(syslog[0].length), envelope: Envelopes.SYSLOG, line }
    return { kind: 'none', envelope: null, line }
  }

  /** Partials still waiting at the end of the input: a record split by the engine whose last piece never came. */
  end(): Extracted[] {
    const out: Extracted[] = [...this.pending.values()].map((p) => ({ kind: 'text', text: p.text, envelope: p.envelope, line: p.line }))
    this.pending.clear()
    return out
  }

  private json(text: string, line: number): Extracted {
    let obj: unknown
    try {
      obj = JSON.parse(text)
    } catch {
      return { kind: 'none', envelope: null, line }
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { kind: 'none', envelope: null, line }
    const o = obj as { [k: string]: unknown }
    if (this.path) {
      let v: unknown = o
      for (const k of this.path) v = v && typeof v === 'object' ? (v as { [k: string]: unknown })[k] : undefined
      return typeof v === 'string' ? this.member(v, Envelopes.FIELD, line) : { kind: 'none', envelope: Envelopes.FIELD, line }
    }
    if (typeof o.line === 'string' && ('labels' in o || 'timestamp' in o)) return this.member(o.line, Envelopes.LOKI, line)
    const source = o._source
    if (source && typeof source === 'object') {
      const s = source as { message?: unknown; log?: unknown }
      const v = typeof s.message === 'string' ? s.message : s.log
      return typeof v === 'string' ? this.member(v, Envelopes.ELASTICSEARCH, line) : { kind: 'none', envelope: Envelopes.ELASTICSEARCH, line }
    }
    // Docker's json-file driver (moby daemon/logger/jsonfilelog): a line over 16 KiB is written as
    // several entries; only the last one's `log` ends with the LF the container wrote.
    if (typeof o.log === 'string' && typeof o.stream === 'string' && typeof o.time === 'string') {
      const done = o.log.endsWith('\n')
      return this.join(`docker:${o.stream}`, done ? o.log.slice(0, -1) : o.log, !done, Envelopes.DOCKER, line)
    }
    const v = typeof o.message === 'string' ? o.message : o.log
    return typeof v === 'string' ? this.member(v, Envelopes.JSON, line) : { kind: 'none', envelope: Envelopes.JSON, line }
  }

  /** A string member: the record, without the one LF a tailing shipper may have kept. */
  private member(v: string, envelope: Envelope, line: number): Extracted {
    const text = v.endsWith('\n') ? v.slice(0, v.endsWith('\r\n') ? -2 : -1) : v
    return { kind: 'text', text, envelope, line }
  }

  private join(stream: string, piece: string, partial: boolean, envelope: Envelope, line: number): Extracted {
    const held = this.pending.get(stream)
    const text = held ? held.text + piece : piece
    const start = held ? held.line : line
    if (partial) {
      this.pending.set(stream, { text, line: start, envelope })
      return { kind: 'partial' }
    }
    this.pending.delete(stream)
    return { kind: 'text', text, envelope, line: start }
  }
}

/** What a record candidate looks like before its hash is checked. */
export type Shape = 'record' | 'cut-start' | 'cut-end' | 'other'

const isHexAt = (s: string, at: number): boolean => {
  for (let i = at; i < at + HASH_HEX; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false
  }
  return true
}

/**
 * Sorts a candidate: a whole record's shape (FORMAT.md §2); the start of one
 * without its end (`prev|…`, cut at a shipper's line limit); the end of one
 * without its start (`…|hash`, the rest of a cut line sent on as a line of its
 * own, as rsyslog's imfile does); or anything else.
 */
export function shapeOf(text: string): Shape {
  const n = text.length
  const start = n > HASH_HEX && text.charCodeAt(HASH_HEX) === 0x7c && isHexAt(text, 0)
  const end = n > HASH_HEX && text.charCodeAt(n - HASH_HEX - 1) === 0x7c && isHexAt(text, n - HASH_HEX)
  if (start && end && n >= 2 * HASH_HEX + 2) return 'record'
  if (start) return 'cut-start'
  if (end) return 'cut-end'
  return 'other'
}
