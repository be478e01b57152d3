/**
 * LangSmith propagation and sampling cost, tracehop against the real `langsmith` JS SDK.
 *
 * 1. Continue a trace: read an incoming `langsmith-trace` + `baggage` (metadata, tags,
 *    project), make a child run (new run id, dotted order), write the outgoing headers.
 *    Ours: parseLangSmithTrace + parseLangSmithBaggageHeader + clampChildStartTime +
 *    newRunIdentity + childDottedOrder + formatLangSmithBaggageHeader. Theirs:
 *    `RunTree.fromHeaders(h).createChild({ name }).toHeaders()`, which also builds two
 *    RunTree objects (what a service using the SDK does per request).
 * 2. The sampling decision on SDK-minted trace ids (uuid7): langsmithSampled against
 *    `isSampledById` (same rule, same answers; theirs hashes with BigInt).
 * 3. XXH3-128 alone on a 36-byte UUID and on 1 KiB.
 */
import { uuid7 } from 'langsmith'
import { isSampledById } from 'langsmith/lib/utils/sampling'
import { XXH3_128 } from 'langsmith/lib/utils/xxhash/xxhash'
import { RunTree } from 'langsmith/run_trees'
import { newRunIdentity } from '../../src/ids.js'
import {
  formatLangSmithBaggageHeader,
  parseLangSmithBaggageHeader,
} from '../../src/propagation/langsmith-baggage.js'
import {
  childDottedOrder,
  clampChildStartTime,
  parseLangSmithTrace,
} from '../../src/propagation/langsmith-trace.js'
import { langsmithSampled } from '../../src/sampling/langsmith-sampler.js'
import { xxh3_128, xxh3_128Mod } from '../../src/sampling/xxh3.js'
import { compare } from '../harness.js'

const N = 256 // a power of two: the index wraps with a mask
const MASK = N - 1

/** A flat copy of a string, as header values arrive from the network (not a rope). */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string
}

export async function run(): Promise<void> {
  // Incoming headers as an upstream langsmith SDK service writes them: a root and a child.
  const incoming: { 'langsmith-trace': string; baggage: string }[] = []
  for (let i = 0; i < N; i++) {
    const root = new RunTree({
      name: 'gateway',
      project_name: 'agents',
      metadata: { tenant: `t-${i}`, region: 'eu-west-1', session_id: crypto.randomUUID() },
      tags: ['edge', 'prod'],
    })
    const h = root.createChild({ name: 'call' }).toHeaders()
    incoming.push({ 'langsmith-trace': flat(h['langsmith-trace']), baggage: flat(h.baggage) })
  }

  let i = 0
  compare({
    name: 'continue a LangSmith trace: read langsmith-trace + baggage, child run, write headers',
    ours: {
      label: 'tracehop',
      fn: () => {
        const h = incoming[i++ & MASK]!
        const parent = parseLangSmithTrace(h['langsmith-trace'])
        const extra = parseLangSmithBaggageHeader(h.baggage)
        const start = clampChildStartTime(
          Date.now(),
          parent ? parent.segments[parent.segments.length - 1]!.time : 0,
        )
        const id = newRunIdentity(start)
        return {
          'langsmith-trace': childDottedOrder(parent?.dottedOrder, start, id.runId),
          baggage: formatLangSmithBaggageHeader(extra),
        }
      },
    },
    theirs: [
      {
        label: 'langsmith RunTree.fromHeaders+createChild+toHeaders',
        fn: () => {
          const parent = RunTree.fromHeaders(incoming[i++ & MASK]!)
          return parent?.createChild({ name: 'hop' }).toHeaders()
        },
      },
    ],
  })

  const ids: string[] = []
  for (let k = 0; k < 4096; k++) ids.push(uuid7())
  let j = 0
  compare({
    name: 'LangSmith sampling decision at 0.1 on SDK uuid7 trace ids',
    ours: { label: 'tracehop langsmithSampled', fn: () => langsmithSampled(ids[j++ & 4095]!, 0.1) },
    theirs: [{ label: 'langsmith isSampledById', fn: () => isSampledById(ids[j++ & 4095]!, 0.1) }],
  })

  const uuids = ids.slice(0, N).map((id) => new TextEncoder().encode(id))
  let k = 0
  compare({
    name: 'XXH3-128 of a 36-byte UUID',
    ours: { label: 'tracehop xxh3_128 (bigint result)', fn: () => xxh3_128(uuids[k++ & MASK]!) },
    theirs: [
      { label: 'tracehop xxh3_128Mod (no bigint)', fn: () => xxh3_128Mod(uuids[k++ & MASK]!, 1_000_000) },
      { label: 'langsmith XXH3_128', fn: () => XXH3_128(uuids[k++ & MASK]!) },
    ],
  })

  const kib = crypto.getRandomValues(new Uint8Array(1024))
  compare({
    name: 'XXH3-128 of 1 KiB',
    ours: { label: 'tracehop xxh3_128', fn: () => xxh3_128(kib) },
    theirs: [{ label: 'langsmith XXH3_128', fn: () => XXH3_128(kib) }],
  })
}
