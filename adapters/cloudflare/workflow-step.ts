/**
 * The `step` a traced Workflow's `run(event, step)` receives: the platform's step with a
 * span per `step.do` / `step.sleep` / `step.sleepUntil` / `step.waitForEvent`.
 *
 * Each step is its own scope under the run span, flushed when the step settles: a
 * Workflow instance outlives any request and may be evicted during a long sleep, so spans
 * of finished steps must not wait in memory for the end of `run()`.
 *
 * What can be told apart, and how (Workflows re-run `run()` from the top after a restart,
 * a pause/resume or an eviction; finished steps then return their stored result):
 * - a replayed `step.do` (result from the store): the callback is not called. Exact. The
 *   span is kept, short, with `cloudflare.workflow.step.replayed: true`, so the work is
 *   counted once, where it ran.
 * - a retried `step.do`: the callback's context says which attempt this is
 *   (`ctx.attempt`, persisted by the engine, so an attempt cut off by a restart counts
 *   too). `cloudflare.workflow.step.attempt` is the last attempt, `…step.retried` is set
 *   from attempt 2 on, and each failed attempt is an `exception` event on the one step
 *   span; the span is an error only when the step finally fails.
 * - a replayed sleep: it returns before its duration could have passed in this run
 *   (`replayed: true`; this includes a sleep resumed part-way, and a sleep shortened by
 *   the local test modifiers).
 * - a replayed `waitForEvent` cannot be told from an event that was already queued: not
 *   marked.
 * - which earlier span ran a replayed step: not known. Recording it would mean changing
 *   the step's stored result (what the dashboard shows and what a later version of the
 *   code, with or without tracehop, would read back), so tracehop does not.
 */

import {
  type Attributes,
  type Scope,
  type Span,
  SpanKind,
  type Tracer,
  type WaitUntil,
} from '../../src/index.js'
import { bindSpan, exceptionAttributes, type OnSettled, settle } from '../../src/internal.js'

// Ref: @cloudflare/workers-types WorkflowStep
/** The platform's `WorkflowStep` (an RPC stub in workerd), described structurally. */
export interface WorkflowStepLike {
  do(name: string, ...rest: unknown[]): Promise<unknown>
  sleep(name: string, duration: unknown): Promise<void>
  sleepUntil(name: string, timestamp: Date | number): Promise<void>
  waitForEvent(name: string, options: unknown): Promise<unknown>
}

/** @internal What the steps of one `run()` invocation share. */
export interface RunState {
  readonly tracer: Tracer
  readonly run: Span
  readonly waitUntil: WaitUntil | undefined
  /** Steps whose result came from the store in this invocation. */
  replayed: number
  /** Steps that needed more than one attempt. */
  retried: number
}

// itty-time, as the Workflows engine reads durations (`'10 seconds'`, `'1 hour'`, ms as a number).
const UNIT_MS: Readonly<Record<string, number>> = {
  year: 31_557_600_000,
  month: 2_592_000_000,
  week: 604_800_000,
  day: 86_400_000,
  hour: 3_600_000,
  minute: 60_000,
  second: 1_000,
}

/**
 * A Workflows duration in ms, or undefined when it cannot be read.
 *
 * @example
 * durationMs('2 minutes') // 120000
 */
export function durationMs(duration: unknown): number | undefined {
  if (typeof duration === 'number') return Number.isFinite(duration) ? duration : undefined
  if (typeof duration !== 'string') return undefined
  const space = duration.indexOf(' ')
  if (space < 0) {
    const n = Number(duration)
    return duration !== '' && Number.isFinite(n) ? n : undefined
  }
  const n = Number(duration.slice(0, space))
  let unit = duration
    .slice(space + 1)
    .trim()
    .toLowerCase()
  if (unit.endsWith('s')) unit = unit.slice(0, -1)
  const ms = UNIT_MS[unit]
  return ms !== undefined && Number.isFinite(n) ? n * ms : undefined
}

function attemptOf(ctx: unknown): number | undefined {
  if (ctx === null || typeof ctx !== 'object') return undefined
  try {
    const attempt = (ctx as { attempt?: unknown }).attempt
    return typeof attempt === 'number' ? attempt : undefined
  } catch {
    return undefined
  }
}

function failedAttempt(span: Span, err: unknown, attempt: number): void {
  // An exception event without an error status: the step may still succeed on retry.
  span.event('exception', { ...exceptionAttributes(err), 'cloudflare.workflow.step.attempt': attempt })
}

/**
 * @internal The traced step handed to the user's `run(event, step)`. Every call goes to the
 * platform's step object itself (an RPC stub: never a detached method).
 */
export class TracedStep implements WorkflowStepLike {
  constructor(
    private readonly step: WorkflowStepLike,
    private readonly state: RunState,
  ) {}

  do(name: string, ...rest: unknown[]): Promise<unknown> {
    const at = typeof rest[0] === 'function' ? 0 : 1
    const callback = rest[at] as unknown
    // No callback: the platform rejects the call as it would without tracehop.
    if (typeof callback !== 'function') return this.step.do(name, ...rest)
    const scope = this.startStep('step', name, { 'cloudflare.workflow.step.type': 'do' })
    const span = scope.root
    let calls = 0
    let lastAttempt = 0
    const args = rest.slice()
    args[at] = function tracedStepCallback(...cbArgs: unknown[]): unknown {
      calls++
      const ctx = cbArgs[0]
      const attempt = attemptOf(ctx) ?? calls
      lastAttempt = attempt
      // `traceOf(ctx)` inside the callback is the step span.
      if (ctx !== null && typeof ctx === 'object') bindSpan(ctx, span)
      return settle(
        () => Reflect.apply(callback as (...a: unknown[]) => unknown, undefined, cbArgs),
        (err, failed) => {
          if (failed) failedAttempt(span, err, attempt)
        },
      )
    }
    const finish = (err: unknown, failed: boolean): void => {
      if (calls === 0) {
        span.set('cloudflare.workflow.step.replayed', true)
        this.state.replayed++
      } else {
        span.set('cloudflare.workflow.step.attempt', lastAttempt)
        span.set('cloudflare.workflow.step.attempts', calls)
        if (lastAttempt > 1 || calls > 1) {
          span.set('cloudflare.workflow.step.retried', true)
          this.state.retried++
        }
      }
      if (failed) span.error(err)
      void scope.end()
    }
    return this.settle(() => this.step.do(name, ...args), finish)
  }

  sleep(name: string, duration: unknown): Promise<void> {
    return this.timed('sleep', name, durationMs(duration), () => this.step.sleep(name, duration))
  }

  sleepUntil(name: string, timestamp: Date | number): Promise<void> {
    const until = timestamp instanceof Date ? timestamp.valueOf() : timestamp
    const requested = typeof until === 'number' && Number.isFinite(until) ? until - Date.now() : undefined
    return this.timed('sleepUntil', name, requested, () => this.step.sleepUntil(name, timestamp))
  }

  waitForEvent(name: string, options: unknown): Promise<unknown> {
    const attributes: Attributes = { 'cloudflare.workflow.step.type': 'waitForEvent' }
    try {
      const type = (options as { type?: unknown } | null | undefined)?.type
      if (typeof type === 'string') attributes['cloudflare.workflow.event.type'] = type
    } catch {
      // A hostile options object is the platform's to reject.
    }
    const scope = this.startStep('waitForEvent', name, attributes)
    return this.settle(
      () => this.step.waitForEvent(name, options),
      (err, failed) => {
        if (failed) scope.root.error(err)
        void scope.end()
      },
    )
  }

  /** A sleep: replayed when it returns before its duration could have passed here. */
  private timed(
    type: string,
    name: string,
    requested: number | undefined,
    call: () => Promise<void>,
  ): Promise<void> {
    const attributes: Attributes = { 'cloudflare.workflow.step.type': type }
    if (requested !== undefined) attributes['cloudflare.workflow.sleep.duration_ms'] = requested
    const scope = this.startStep(type, name, attributes)
    const started = Date.now()
    return this.settle(call, (err, failed) => {
      // Workers' clock advances on I/O: after the engine's answer it shows the time waited.
      if (!failed && requested !== undefined && Date.now() - started < requested - 1) {
        scope.root.set('cloudflare.workflow.step.replayed', true)
        this.state.replayed++
      }
      if (failed) scope.root.error(err)
      void scope.end()
    })
  }

  private startStep(kind: string, name: string, attributes: Attributes): Scope {
    const { tracer, run, waitUntil } = this.state
    attributes['cloudflare.workflow.step.name'] = String(name)
    return tracer.start(run.context(), {
      // The run span's own context: ours, whatever the tracer's ingress.
      ingress: 'trusted',
      name: `${kind} ${name}`,
      kind: SpanKind.INTERNAL,
      attributes,
      ...(waitUntil !== undefined ? { waitUntil } : {}),
    })
  }

  /** Calls the platform and reports how it settled; the user sees the platform's value or error unchanged. */
  private settle<T>(call: () => Promise<T>, done: OnSettled): Promise<T> {
    return Promise.resolve(settle(call, done))
  }
}
