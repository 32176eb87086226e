/**
 * Buffered writing to stdout for commands that print many lines (extract):
 * lines are gathered into large writes and the reader's pace is respected.
 */
import { once } from 'node:events'

const BATCH = 64 * 1024

export class LineOutput {
  private parts: string[] = []
  private size = 0
  /** Lines written so far. */
  count = 0

  /** A reader that closes the pipe is handled once for the whole program, in runMain(). */
  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  line(text: string): void {
    this.parts.push(text, '\n')
    this.size += text.length + 1
    this.count++
    if (this.size >= BATCH) this.flush()
  }

  /** Hands what is gathered to the stream (before writing to stderr, so that the two stay in order). */
  flush(): void {
    if (this.size === 0) return
    const text = this.parts.join('')
    this.parts = []
    this.size = 0
    this.stream.write(text)
  }

  /** Resolves when the stream can take more. */
  async drain(): Promise<void> {
    if (this.stream.writableNeedDrain) await once(this.stream, 'drain')
  }

  /** Flushes and waits until everything is handed to the OS. */
  async end(): Promise<void> {
    this.flush()
    await new Promise<void>((resolve) => this.stream.write('', () => resolve()))
  }
}
