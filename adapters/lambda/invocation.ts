/**
 * One wrapped handler's invocations: start the invocation scope from whatever carrier the
 * event source has, and end it with a flush that is over before the Lambda deadline.
 * `withTrace`, the class-method decorator and the middy middleware all run through this.
 */

import {
  type Attributes,
  type CarrierGetter,
  createTracer,
  type FlushReport,
  type Ingress,
  type InvocationResult,
  type OnConfigError,
  type Span,
  SpanKind,
  TracehopError,
  Tracer,
  type TracerConfig,
} from '../../src/index.js'
import {
  bindSpan,
  buildOrUntraced,
  checkOnConfigError,
  installExportFetch,
  parseXRay,
  xrayRootToTraceId,
} from '../../src/internal.js'
import { clientContextCarrier, eventBridgeCarrier, httpEventCarrier } from './carriers.js'
import {
  describeInvocation,
  type EventSourceKind,
  type InvocationShape,
  isHttpSource,
} from './event-source.js'
import { arnAccount, asObject } from './event-values.js'
import { nodeHttpFetch } from './node-fetch.js'
import { correlatePowertools } from './powertools.js'
import { registerRecords, settleRecords } from './records.js'
import { type Invocation, invocations } from './state.js'
import type { LambdaContextLike, PowertoolsTracerLike } from './types.js'
import { invocationXRayHeader, lambdaEnv } from './xray-env.js'

/** Lambda-specific options, on top of the tracer's configuration. */
export interface LambdaOptions {
  /**
   * A `@aws-lambda-powertools/tracer` `Tracer`: its handler subsegment is annotated with our
   * trace and span ids, and our invocation span gets its X-Ray trace id. Use Powertools'
   * `captureLambdaHandler` outside of tracehop, so its subsegment is open when ours starts.
   */
  readonly powertools?: PowertoolsTracerLike
  /**
   * Time kept free before the Lambda deadline (ms): the flush is over by
   * `getRemainingTimeInMillis() - flushMarginMs`, whatever the exporter does. Default 250.
   */
  readonly flushMarginMs?: number
  /** LangSmith run type of the invocation span. */
  readonly runType?: string
  /** Overrides the tracer's `propagation.ingress` for this function (e.g. `untrusted` behind a public URL). */
  readonly ingress?: Ingress
  /** The invocation span's name; default per event source (`POST /items/{id}`, `process my-queue`, the function name). */
  readonly name?: string
  /**
   * When a configuration function (`withTrace(handler, () => config)`) throws, e.g. on a
   * missing environment variable: `untraced` (default) serves invocations untraced, logs
   * once and counts `stats().configErrors`; `throw` rethrows at module load. An object
   * configuration always throws when it is wrong.
   */
  readonly onConfigError?: OnConfigError
}

/** A tracer configuration with the Lambda options beside it. */
export type LambdaConfig = TracerConfig & LambdaOptions

/** A configuration, a tracer, or a function that builds the configuration (from `process.env`). */
export type LambdaConfigInput = LambdaConfig | Tracer | (() => LambdaConfig)

const DEFAULT_MARGIN_MS = 250

/**
 * Creates the tracer for a Lambda function: `cloud.*`/`faas.*` resource attributes from the
 * environment, and no coalescing window (`flush.windowMs: 0`; the flush is awaited before
 * the handler returns, and no other invocation will join it), unless configured otherwise.
 *
 * @example
 * export const handler = withTrace(fn, createLambdaTracer({ service: 'retrieval', exporters: [otlp({ url })] }))
 */
/** Default flush budget on Lambda (ms), within the remaining time minus the margin. */
export const LAMBDA_FLUSH_BUDGET_MS = 2000

export function createLambdaTracer(config: TracerConfig): Tracer {
  const env = lambdaEnv()
  const resource: Attributes = { 'cloud.provider': 'aws', 'cloud.platform': 'aws_lambda' }
  if (env['AWS_REGION']) resource['cloud.region'] = env['AWS_REGION']
  if (env['AWS_LAMBDA_FUNCTION_NAME']) resource['faas.name'] = env['AWS_LAMBDA_FUNCTION_NAME']
  if (env['AWS_LAMBDA_FUNCTION_VERSION']) resource['faas.version'] = env['AWS_LAMBDA_FUNCTION_VERSION']
  if (env['AWS_LAMBDA_LOG_STREAM_NAME']) resource['faas.instance'] = env['AWS_LAMBDA_LOG_STREAM_NAME']
  const memory = Number(env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'])
  if (memory > 0) resource['faas.max_memory'] = memory * 1024 * 1024
  return createTracer({
    ...config,
    resource: { ...resource, ...config.resource },
    // The response waits for the flush (Lambda freezes after it): a slow or unreachable
    // collector must not add seconds to every invocation. 2 s by default, not the core's 10.
    flush: { windowMs: 0, budgetMs: LAMBDA_FLUSH_BUDGET_MS, ...config.flush },
  })
}

/** @internal The state one wrapped handler keeps: its tracer, options and cold-start flag. */
export class Invoker {
  readonly tracer: Tracer
  private readonly powertools: PowertoolsTracerLike | undefined
  private readonly marginMs: number
  private readonly runType: string | undefined
  private readonly ingress: Ingress | undefined
  private readonly name: string | undefined
  // Per wrapped handler, not per module: two handlers in one bundle each have a cold start.
  private cold: boolean
  // The environment's fixed part, read once: `process.env` lookups are slow native calls.
  private readonly env: {
    readonly functionName: string | undefined
    readonly functionVersion: string | undefined
    readonly region: string | undefined
    readonly concurrent: boolean
  }

  constructor(input: LambdaConfigInput, options: LambdaOptions | undefined) {
    let config: LambdaConfig | Tracer
    let built: Tracer | undefined
    if (typeof input === 'function') {
      // Built now, inside the guard: a missing environment variable must not fail every
      // invocation (module load would throw, and Lambda would retry the init each time).
      const r = buildOrUntraced(
        () => {
          const c = input()
          return { config: c as LambdaConfig | Tracer, tracer: createLambdaTracer(c) }
        },
        checkOnConfigError(options?.onConfigError),
        (tracer) => ({ config: tracer, tracer }),
      )
      config = r.config
      built = r.tracer
    } else config = input
    const fromConfig: LambdaOptions = config instanceof Tracer ? {} : config
    const o: LambdaOptions = { ...fromConfig, ...options }
    const margin = o.flushMarginMs ?? DEFAULT_MARGIN_MS
    if (typeof margin !== 'number' || !(margin >= 0)) {
      throw new TracehopError(`flushMarginMs must be a non-negative number of ms, got ${String(margin)}`)
    }
    if (o.powertools !== undefined && typeof o.powertools?.getSegment !== 'function') {
      throw new TracehopError('powertools must be a Tracer from @aws-lambda-powertools/tracer')
    }
    // Exporters without their own `fetch` send through node:http: Lambda is always Node,
    // and its `fetch` would add ~30 ms of CPU to the first invocation's export.
    installExportFetch(nodeHttpFetch)
    // Resolved once, when the module loads: a bad configuration fails the deployment, not a request.
    this.tracer = built ?? (config instanceof Tracer ? config : createLambdaTracer(config))
    this.powertools = o.powertools
    this.marginMs = margin
    this.runType = o.runType
    this.ingress = o.ingress
    this.name = o.name
    const env = lambdaEnv()
    this.cold = env['AWS_LAMBDA_INITIALIZATION_TYPE'] !== 'provisioned-concurrency'
    this.env = {
      functionName: stringOf(env['AWS_LAMBDA_FUNCTION_NAME']),
      functionVersion: stringOf(env['AWS_LAMBDA_FUNCTION_VERSION']),
      region: stringOf(env['AWS_REGION']),
      concurrent: stringOf(env['AWS_LAMBDA_MAX_CONCURRENCY']) !== undefined,
    }
  }

  /** Starts the invocation scope and binds it to `context`. Never throws. */
  begin(event: unknown, context: LambdaContextLike | undefined): Invocation {
    const tracer = this.tracer
    const now = Date.now()
    let remaining: number | undefined
    try {
      const r =
        typeof context?.getRemainingTimeInMillis === 'function'
          ? context.getRemainingTimeInMillis()
          : undefined
      if (typeof r === 'number' && Number.isFinite(r)) remaining = r
    } catch {
      // A context double without a working clock: the tracer's own budget applies.
    }
    // Lambda scopes have no waitUntil: the response waits for the flush.
    const configured = tracer.config.flush.awaitedBudgetMs
    const flushBudgetMs =
      remaining === undefined ? configured : Math.max(0, Math.min(configured, remaining - this.marginMs))
    const hardDeadline = remaining === undefined ? Number.POSITIVE_INFINITY : now + remaining - this.marginMs

    const ctx = asObject(context)
    let shape: InvocationShape
    let carrier: CarrierGetter | undefined
    try {
      shape = describeInvocation(event, stringOf(ctx?.['functionName']) ?? this.env.functionName ?? 'lambda')
      carrier = carrierFor(shape.source, event, ctx)
    } catch {
      // A hostile event (throwing getters): a fresh trace, counted.
      tracer.statsRecorder.countInvalid('event')
      shape = {
        source: 'invoke',
        name: 'lambda',
        kind: SpanKind.SERVER,
        attributes: { 'faas.trigger': 'other' },
        records: undefined,
      }
      carrier = undefined
    }
    let attributes: Attributes
    try {
      attributes = this.invocationAttributes(shape, ctx)
    } catch {
      // A context whose getters throw: the invocation is still traced, without its ids.
      tracer.statsRecorder.countInvalid('event')
      attributes = shape.attributes
    }
    const scope = tracer.start(carrier, {
      name: this.name ?? shape.name,
      kind: shape.kind,
      attributes,
      flushBudgetMs,
      ...(shape.origin !== undefined ? { origin: shape.origin } : {}),
      ...(shape.hostOrigin !== undefined ? { hostOrigin: shape.hostOrigin } : {}),
      ...(this.runType !== undefined ? { runType: this.runType } : {}),
      ...(this.ingress !== undefined ? { ingress: this.ingress } : {}),
    })
    const invocation: Invocation = {
      tracer,
      scope,
      source: shape.source,
      ingress: this.ingress,
      flushBudgetMs,
      hardDeadline,
      created: [],
      pending: [],
      finished: false,
    }
    const root = scope.root
    if (ctx !== undefined) {
      bindSpan(ctx, root)
      invocations.set(ctx, invocation)
    }
    if (shape.records !== undefined) {
      try {
        registerRecords(invocation, shape.records)
      } catch {
        tracer.statsRecorder.countInvalid('event')
      }
    }
    linkXRayEnvironment(root, this.env.concurrent)
    if (this.powertools !== undefined) correlatePowertools(this.powertools, root)
    return invocation
  }

  /**
   * Ends the invocation: records the result (HTTP `statusCode`, a thrown error, failed batch
   * items), ends record spans still open, and flushes every scope, bounded by the Lambda
   * deadline minus the margin. Never throws; the caller returns or rethrows afterwards.
   */
  async finish(invocation: Invocation, result: unknown, error: unknown, threw: boolean): Promise<void> {
    if (invocation.finished) return
    invocation.finished = true
    let ending: InvocationResult
    try {
      const status = isHttpSource(invocation.source) ? statusOf(result) : undefined
      if (threw) ending = status === undefined ? { error } : { error, status }
      else if (status !== undefined) ending = { status }
    } catch {
      ending = threw ? { error } : undefined
    }
    let flushes: Promise<FlushReport>[]
    try {
      flushes = settleRecords(invocation, result, threw)
    } catch {
      flushes = invocation.pending
    }
    flushes.push(invocation.scope.end(ending))
    await boundedBy(Promise.all(flushes), invocation.hardDeadline)
  }

  private invocationAttributes(shape: InvocationShape, ctx: Record<string, unknown> | undefined): Attributes {
    const env = this.env
    const attributes: Attributes = shape.attributes
    attributes['faas.coldstart'] = this.cold
    attributes['cloud.provider'] = 'aws'
    attributes['cloud.platform'] = 'aws_lambda'
    this.cold = false
    const requestId = stringOf(ctx?.['awsRequestId'])
    if (requestId !== undefined) attributes['faas.invocation_id'] = requestId
    const name = stringOf(ctx?.['functionName']) ?? env.functionName
    if (name !== undefined) attributes['faas.name'] = name
    const version = stringOf(ctx?.['functionVersion']) ?? env.functionVersion
    if (version !== undefined) attributes['faas.version'] = version
    if (env.region !== undefined) attributes['cloud.region'] = env.region
    const arn = stringOf(ctx?.['invokedFunctionArn'])
    if (arn !== undefined) {
      attributes['aws.lambda.invoked_arn'] = arn
      const account = arnAccount(arn)
      if (account !== undefined) attributes['cloud.account.id'] = account
    }
    return attributes
  }
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** Where the invocation's own context is: HTTP headers, EventBridge detail, or the Invoke ClientContext. */
function carrierFor(
  source: EventSourceKind,
  event: unknown,
  ctx: Record<string, unknown> | undefined,
): CarrierGetter | undefined {
  if (isHttpSource(source)) return httpEventCarrier(event)
  if (source === 'eventbridge' || source === 'schedule') return eventBridgeCarrier(event)
  if (source === 'invoke') return clientContextCarrier(ctx)
  // Batches: each record has its own context; the invocation links to them.
  return undefined
}

/** `statusCode` of an HTTP integration's result (API Gateway, ALB, Function URL). */
function statusOf(result: unknown): number | undefined {
  const code = asObject(result)?.['statusCode']
  return typeof code === 'number' && Number.isInteger(code) ? code : undefined
}

/**
 * The X-Ray header Lambda set for this invocation: `aws.xray.trace_id` and a link with
 * `source=x-ray-env` (OTel "Instrumenting AWS Lambda"). Correlation only, never a parent.
 */
function linkXRayEnvironment(root: Span, concurrent: boolean): void {
  const raw = invocationXRayHeader(concurrent)
  if (raw === undefined) return
  const xray = parseXRay(raw)
  if (xray === undefined) return
  if (root.get('aws.xray.trace_id') === undefined) root.set('aws.xray.trace_id', xray.root)
  if (xray.parent === undefined) return
  const traceId = xrayRootToTraceId(xray.root)
  if (traceId !== undefined) {
    root.link({
      traceId,
      spanId: xray.parent,
      ...(xray.sampled ? { flags: 1 } : {}),
      attributes: { source: 'x-ray-env' },
    })
  }
}

/** @internal Waits for `promise` until `deadline` (ms since epoch) at most. Never rejects. */
export function boundedBy(promise: Promise<unknown>, deadline: number): Promise<void> {
  const wait = deadline - Date.now()
  if (wait === Number.POSITIVE_INFINITY) return promise.then(noop, noop)
  if (!(wait > 0)) return Promise.resolve()
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, wait)
    promise.then(
      () => {
        clearTimeout(timer)
        resolve()
      },
      () => {
        clearTimeout(timer)
        resolve()
      },
    )
  })
}

function noop(): void {}
