// Anything but a context record: the `ctx` of an envelope lookalike. A context record (the
// header names tracehop writes, or an empty plain object: the ctx of a span that propagated
// nothing) makes a well-formed envelope, tested elsewhere.
import fc from 'fast-check'
import { CONTEXT_NAMES } from '../../../src/envelope.js'

export const notContext = fc
  .anything()
  .filter(
    (c) =>
      c === null ||
      typeof c !== 'object' ||
      Array.isArray(c) ||
      (Object.keys(c).length === 0
        ? ![Object.prototype, null].includes(Object.getPrototypeOf(c))
        : !Object.keys(c).every((k) => CONTEXT_NAMES.includes(k.toLowerCase()))),
  )
