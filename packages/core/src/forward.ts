import type { ChainWriterEvents } from './events'
import type { ChainWriter } from './writer'

/** The writer's events a transport passes on to its users. */
export type ForwardedEvent = 'new' | 'rotate' | 'remove' | 'archive' | 'foreign' | 'recovery' | 'truncation' | 'resume' | 'error'

/** The name a transport gives each writer event it forwards (its peer's, or a prefixed one). */
export type EventNames = { readonly [K in ForwardedEvent]?: string }

/**
 * A transport's typed event map for the events it forwards: the writer's
 * payloads (ChainWriterEvents) under the transport's names, so that no payload
 * is listed twice. `'error'` stays with the stream's own events.
 */
export type ForwardedEvents<N extends EventNames> = {
  [K in keyof N & ForwardedEvent as K extends 'error' ? never : N[K] & string]: ChainWriterEvents[K]
}

/** Plain data for a payload: an Error as it is, an object copied (a worker's events cross threads by structured clone). */
const plain = (arg: unknown) => (arg instanceof Error || typeof arg !== 'object' ? arg : structuredClone(arg))

/**
 * Reports the writer's events through `emit` under the transport's `names`,
 * each payload as plain data: the one forwarding both transports use.
 */
export function forwardEvents(writer: ChainWriter, names: EventNames, emit: (name: string, ...args: unknown[]) => void): void {
  for (const event of Object.keys(names) as ForwardedEvent[]) {
    const name = names[event]!
    ;(writer.on as (e: string, l: (...a: unknown[]) => void) => ChainWriter)(event, (...args) => emit(name, ...args.map(plain)))
  }
}
