import { describe, expect, it } from 'vitest'
import { recordTime } from '../src/record-time'

describe('recordTime', () => {
  const at = Date.UTC(2026, 10, 22, 10, 0, 0)
  it("reads pino's time in ms, in seconds (unixTime) and as a date string", () => {
    expect(recordTime(`{"level":30,"time":${at},"msg":"a"}`)).toBe(at)
    expect(recordTime(`{"level":30,"time":${at / 1000},"msg":"a"}`)).toBe(at)
    expect(recordTime(`{"time":"${new Date(at).toISOString()}"}`)).toBe(at)
  })
  it("reads winston's timestamp, and gives one that is no date as written", () => {
    expect(recordTime(`{"message":"a","timestamp":"${new Date(at).toISOString()}"}`)).toBe(at)
    expect(recordTime('{"message":"a","timestamp":"yesterday noon"}')).toBe('yesterday noon')
  })
  it('reads a metadata record by its own time', () => {
    expect(recordTime(`\\m{"t":"header","time":${at}}`)).toBe(at)
  })
  it('gives nothing for a line with no time', () => {
    expect(recordTime(null)).toBeUndefined()
    expect(recordTime('plain text')).toBeUndefined()
    expect(recordTime('{"msg":"no time"}')).toBeUndefined()
    expect(recordTime('{"time":')).toBeUndefined()
    expect(recordTime('{"time":1e300}')).toBeUndefined()
    expect(recordTime('{"time":""}')).toBeUndefined()
  })
})
