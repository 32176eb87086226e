// What a chain costs on disk (issue #13): each record adds `prev|` and `|hash`,
// 130 bytes of hex that gzip cannot shrink much, since hashes are random. The
// same fastify-style request log (request lines of about 100 B, 250 B, 1 KB and
// 4 KB) goes through pino + pino-roll (the plain file it replaces) and through
// pino + @chainlog/pino, each a real pino.transport() worker; the files they
// leave are measured as written and gzipped (node:zlib, level 6, one member
// per file, as `compress: true` and logrotate's compress make).
//
// Run alone: `node bench/storage.bench.mjs [--mb 8]`; or import run().
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { timePino } from './lib.mjs'

/** Target line sizes, in bytes of pino's line. */
export const SIZES = [100, 250, 1024, 4096]

/** A small deterministic generator: the same log on every run. */
function random(seed) {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32)
}

const ROUTES = ['/api/orders', '/api/orders/:id', '/api/users/:id', '/api/cart', '/api/search', '/health', '/api/payments', '/api/items/:id/reviews']
const WORDS = ['order', 'payment', 'user', 'cart', 'item', 'shipping', 'invoice', 'refund', 'pending', 'settled', 'EUR', 'USD', 'express', 'standard', 'warehouse', 'berlin', 'lisbon', 'coupon', 'SPRING24', 'gift', 'wrap', 'retry', 'timeout', 'upstream', 'cache', 'miss', 'hit', 'token', 'session', 'mobile', 'desktop', 'Mozilla/5.0', '(X11; Linux x86_64)', 'AppleWebKit/537.36', 'Chrome/131.0', 'Safari/537.36']

/**
 * Records of a request log whose pino lines are about `size` bytes: what
 * fastify logs per request (request id, method, url, status, response time),
 * plus, on the bigger lines, the headers, query and a summary of the body that
 * services add to audit logs, drawn from a vocabulary so that gzip sees text
 * as repetitive as a real log's.
 */
export function requestLog(size, count, seed = size) {
  const rnd = random(seed)
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)]
  const words = (bytes) => {
    let s = ''
    while (s.length < bytes) s += (s ? ' ' : '') + (rnd() < 0.2 ? Math.floor(rnd() * 100000).toString(36) : pick(WORDS))
    return s.slice(0, Math.max(0, bytes))
  }
  // pino's own fields ({"level":30,"time":…,"pid":4242,"hostname":"bench",…,"msg":"request completed"}) take about 95 bytes.
  const base = 95
  return Array.from({ length: count }, (_, i) => {
    const r = { reqId: `req-${i.toString(36)}` }
    if (size >= 250) Object.assign(r, { req: { method: pick(['GET', 'GET', 'GET', 'POST', 'PUT']), url: pick(ROUTES).replace(':id', String(Math.floor(rnd() * 1e6))) }, res: { statusCode: pick([200, 200, 200, 201, 204, 404, 500]) }, responseTime: Math.round(rnd() * 50000) / 1000 })
    const used = base + JSON.stringify(r).length - 2
    if (size >= 1024) r.headers = { 'user-agent': words(60), accept: 'application/json', 'x-forwarded-for': `10.${i % 256}.${(i >> 8) % 256}.${Math.floor(rnd() * 256)}` }
    const left = size - used - (r.headers ? JSON.stringify(r.headers).length + 11 : 0) - 10
    if (left > 0) r.detail = words(left)
    return r
  })
}

const peers = [
  { name: 'pino + pino-roll', target: 'pino-roll', options: (dir) => ({ file: path.join(dir, 'app'), extension: '.log', size: '10m' }) },
  { name: 'pino + @chainlog/pino', target: '@chainlog/pino', options: (dir) => ({ file: path.join(dir, 'app.log'), size: '10m' }) },
]

/** Bytes of the log files in `dir`, as written and gzipped one file at a time. */
function measure(dir) {
  let raw = 0
  let gz = 0
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.log')) continue
    const data = fs.readFileSync(path.join(dir, name))
    raw += data.length
    gz += gzipSync(data, { level: 6 }).length
  }
  return { raw, gz }
}

/**
 * One row per line size: bytes per line and in total, plain and chained, as
 * written and gzipped. `mb` is about how many megabytes of plain log each size writes.
 */
export async function run({ mb = 8 } = {}) {
  const rows = []
  for (const size of SIZES) {
    const records = requestLog(size, Math.round((mb * 1e6) / size))
    const out = {}
    for (const peer of peers) {
      const res = await timePino({ target: peer.target, options: peer.options, records, turn: 100, inspect: measure })
      out[peer.name] = { raw: res.raw, gz: res.gz }
    }
    const plain = out['pino + pino-roll']
    const chained = out['pino + @chainlog/pino']
    rows.push({
      size,
      lines: records.length,
      lineBytes: plain.raw / records.length,
      plain,
      chained,
      ratio: chained.raw / plain.raw,
      gzRatio: chained.gz / plain.gz,
      perLine: (chained.raw - plain.raw) / records.length,
      gzPerLine: (chained.gz - plain.gz) / records.length,
    })
  }
  return rows
}

export function formatRows(rows) {
  const mb = (n) => (n / 1e6).toFixed(2)
  const header = ['line', 'lines', 'plain MB', 'chained MB', 'ratio', 'plain gz MB', 'chained gz MB', 'gz ratio', '+B/line', '+B/line gz']
  const table = rows.map((r) => [`${Math.round(r.lineBytes)} B`, r.lines.toLocaleString('en-US'), mb(r.plain.raw), mb(r.chained.raw), `${r.ratio.toFixed(2)}x`, mb(r.plain.gz), mb(r.chained.gz), `${r.gzRatio.toFixed(2)}x`, r.perLine.toFixed(0), r.gzPerLine.toFixed(0)])
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)))
  return [header, ...table].map((cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { mb: { type: 'string', default: '8' } } })
  console.log('storage: the same request log through pino-roll and @chainlog/pino, as written and gzipped (level 6, per file)\n')
  console.log(formatRows(await run({ mb: Number(values.mb) })))
}
