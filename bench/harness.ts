/**
 * A small interleaved benchmark harness: every case of a comparison runs in the same
 * process, in alternating rounds, so machine noise hits ours and the competitor alike.
 * Benchmarks report numbers; they assert nothing.
 */

export interface Contender {
  /** What is measured, e.g. `tracehop` or `@opentelemetry/core`. */
  readonly label: string
  readonly fn: () => unknown
}

export interface Comparison {
  readonly name: string
  readonly ours: Contender
  readonly theirs: readonly Contender[]
  /** Iterations per round; defaults to a count that takes ~20 ms per round. */
  readonly iterations?: number
}

export interface ComparisonResult {
  readonly name: string
  readonly rows: readonly { label: string; nsPerOp: number; ratio: number; spread?: string }[]
}

/** One contender's figure: the median over rounds, and the rounds' interquartile range. */
export interface ReportRow {
  readonly label: string
  readonly ns: number
  /** The same rounds' spread, e.g. `412–431 ns`, printed beside the median. */
  readonly spread?: string
}

export interface AsyncComparison {
  readonly name: string
  readonly ours: { readonly label: string; readonly fn: () => Promise<unknown> }
  readonly theirs: readonly { readonly label: string; readonly fn: () => Promise<unknown> }[]
  readonly iterations?: number
}

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7)

function calibrate(fn: () => unknown): number {
  // Warm up first: a slow first call (lazy module loading, JIT) must not set the count.
  for (let i = 0; i < 200; i++) sink = fn()
  let n = 1
  for (;;) {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) fn()
    const ms = performance.now() - t0
    if (ms > 5 || n > 1 << 24) return Math.max(1, Math.round((n * 20) / Math.max(ms, 0.01)))
    n *= 4
  }
}

let sink: unknown
/** Keeps results observable so the JIT cannot drop the work. */
export function consume(x: unknown): void {
  sink = x
}
export function lastSink(): unknown {
  return sink
}

/** Runs a comparison and prints ns/op per contender and each one's ratio to ours. */
export function compare(c: Comparison): ComparisonResult {
  const all = [c.ours, ...c.theirs]
  const iters = all.map((x) => c.iterations ?? calibrate(x.fn))
  const samples: number[][] = all.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < all.length; k++) {
      const contender = all[(k + round) % all.length]!
      const idx = all.indexOf(contender)
      const n = iters[idx]!
      const t0 = performance.now()
      for (let i = 0; i < n; i++) sink = contender.fn()
      samples[idx]!.push(((performance.now() - t0) * 1e6) / n)
    }
  }
  return report(
    c.name,
    all.map((x, i) => rowOf(x.label, samples[i]!)),
  )
}

/** The same for async work (export round trips, requests): iterations are sequential. */
export async function compareAsync(c: AsyncComparison): Promise<ComparisonResult> {
  const all = [c.ours, ...c.theirs]
  const n = c.iterations ?? 200
  for (const x of all) for (let i = 0; i < Math.min(20, n); i++) await x.fn() // warm-up
  const samples: number[][] = all.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < all.length; k++) {
      const idx = (k + round) % all.length
      const contender = all[idx]!
      const t0 = performance.now()
      for (let i = 0; i < n; i++) sink = await contender.fn()
      samples[idx]!.push(((performance.now() - t0) * 1e6) / n)
    }
  }
  return report(
    c.name,
    all.map((x, i) => rowOf(x.label, samples[i]!)),
  )
}

function rowOf(label: string, samples: readonly number[]): ReportRow {
  const s = [...samples].sort((a, b) => a - b)
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!
  return { label, ns: medianOf(samples), spread: `${fmt(q(0.25))}–${fmt(q(0.75))}` }
}

function fmt(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`
  return `${ns.toFixed(0)} ns`
}

const results: ComparisonResult[] = []
export function allResults(): readonly ComparisonResult[] {
  return results
}

/**
 * Prints one comparison; ratio = their time / ours (above 1: we are faster). Each figure is a
 * median over rounds; where the rounds are known, their interquartile range follows it.
 */
export function report(name: string, rows: readonly ReportRow[]): ComparisonResult {
  const ours = rows[0]!.ns
  const out = {
    name,
    rows: rows.map((r) => ({
      label: r.label,
      nsPerOp: r.ns,
      ratio: r.ns / ours,
      ...(r.spread !== undefined && { spread: r.spread }),
    })),
  }
  results.push(out)
  console.log(`\n${name}`)
  const width = Math.max(44, ...out.rows.map((r) => r.label.length))
  for (const [i, r] of out.rows.entries()) {
    const ratio = i === 0 ? '1.00x (ours)' : `${r.ratio.toFixed(2)}x ours`
    const spread = r.spread === undefined ? '' : `   IQR ${r.spread}`
    console.log(`  ${r.label.padEnd(width)} ${fmt(r.nsPerOp).padStart(12)}/op   ${ratio.padEnd(12)}${spread}`)
  }
  return out
}

/** Prints a free-form figure next to the comparisons (sizes, req/s, percentiles). */
export function note(name: string, lines: readonly string[]): void {
  console.log(`\n${name}`)
  for (const l of lines) console.log(`  ${l}`)
}

/** The median of a sample (NaN when empty), for suites that collect their own samples. */
export function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Number.NaN
}

/** The interquartile range of a sample as `q1–q3`, one decimal: the spread beside a median. */
export function iqrOf(xs: readonly number[]): string {
  const s = [...xs].sort((a, b) => a - b)
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN
  return `${q(0.25).toFixed(1)}–${q(0.75).toFixed(1)}`
}
