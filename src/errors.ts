/**
 * The one error tracehop throws, and only for configuration mistakes at setup time.
 * Bad input at run time (headers, events, envelopes) never throws: it is counted.
 *
 * @example
 * try { createTracer({ service: '' }) } catch (e) { if (e instanceof TracehopError) … }
 */
export class TracehopError extends Error {
  override readonly name = 'TracehopError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(`tracehop: ${message}`, options)
  }
}
