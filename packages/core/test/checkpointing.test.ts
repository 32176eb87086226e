/**
 * Checkpointing (#16) on its own, against a file the test writes: the tree
 * it brings up to the head is the tree of the records' hash fields, and a
 * catch-up that fails part way (here a record whose hash field is not hex)
 * leaves nothing behind. Once the file reads back whole, the next
 * checkpoint's tree holds each record once.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import * as path from 'node:path'
import { expect, test } from 'vitest'
import { writeCheckpointKeys } from '../src/checkpoint-file'
import { Checkpointing, type CheckpointingContext } from '../src/checkpointing'
import type { Current } from '../src/discovery'
import type { ChainlogError } from '../src/errors'
import { CompactTree, NoteSigner, parseCheckpoint, parseNote, recordLeaf } from '../src/format'
import { tmpDir } from './helpers'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const record = (prev: string, stored: string) => `${prev}|${stored}|${sha(prev + stored)}\n`
const hashField = (line: string) => line.slice(-64)

test('a catch-up that fails part way is not taken in twice: the next checkpoint starts over from the file', async () => {
  const dir = tmpDir()
  const file = path.join(dir, 'app.log')
  const { key } = writeCheckpointKeys(path.join(dir, 'keys'), NoteSigner.generate('example.com/checkpointing'))
  let prev = '0'.repeat(64)
  const append = (stored: string): string => {
    const r = record(prev, stored)
    fs.appendFileSync(file, r)
    prev = r.slice(-65, -1)
    return r
  }
  for (let i = 0; i < 5; i++) append(`{"i":${i}}`)
  const cur = { path: file, end: fs.statSync(file).size, sink: { ino: fs.statSync(file).ino }, header: { index: 0 } } as unknown as Current
  const errors: ChainlogError[] = []
  const ctx: CheckpointingContext = {
    settings: { now: () => Date.parse('2026-12-02T00:00:00Z'), checkpointInterval: 60_000, naming: { dir, stem: 'app', extension: '.log' } } as unknown as CheckpointingContext['settings'],
    at: { cur, prev, chain: '' },
    appendNow: (stored) => {
      for (const s of stored) append(s)
      cur.end = fs.statSync(file).size
      ctx.at.prev = prev
    },
    emit: ((event: string, err: ChainlogError) => event === 'error' && errors.push(err)) as CheckpointingContext['emit'],
  }
  const checkpointing = new Checkpointing(key, ctx)
  checkpointing.checkpoint()

  // Other records, one of them with a hash field that is not hex.
  for (let j = 0; j < 3; j++) append(`{"j":${j}}`)
  const bad = append('{"j":3}')
  const spoiled = bad.slice(0, -65) + 'z'.repeat(64) + '\n'
  fs.writeFileSync(file, fs.readFileSync(file, 'latin1').replace(bad, spoiled), 'latin1')
  for (let j = 4; j < 6; j++) append(`{"j":${j}}`)
  cur.end = fs.statSync(file).size
  checkpointing.checkpoint()
  await new Promise(setImmediate)
  expect(errors.map((e) => [e.code, e.message])).toEqual([['IO_ERROR', `IO_ERROR: checkpoint failed: a record hash is 64 hex characters; got ${JSON.stringify('z'.repeat(64))}`]])

  // The record reads back whole again: every record counts once in the next checkpoint.
  fs.writeFileSync(file, fs.readFileSync(file, 'latin1').replace(spoiled, bad), 'latin1')
  checkpointing.checkpoint()
  const lines = fs.readFileSync(file, 'latin1').split('\n').slice(0, -1)
  const expected = new CompactTree()
  for (const l of lines.slice(0, -1)) expected.append(recordLeaf(hashField(l)))
  expect(expected.size).toBe(12)
  const last = JSON.parse(lines.at(-1)!.slice(65, -65).slice(2)) as { t: string; size: number; root: string }
  expect(last).toMatchObject({ t: 'checkpoint', size: 12, root: Buffer.from(expected.root()).toString('base64') })
  const note = parseCheckpoint(parseNote(fs.readFileSync(`${file}.checkpoint`, 'utf8')).text)
  expect(note.size).toBe(12)
  expect(Buffer.from(note.root).toString('base64')).toBe(last.root)
})
