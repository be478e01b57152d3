/**
 * The orchestrator's agent loop, traced with tracehop spans you hold (no ambient context):
 * each model call is an `llm` span with the OTel GenAI attributes and token counts; each
 * turn's tool calls run in parallel (`Promise.all`), each in its own `tool` span whose
 * HTTP call carries the trace to the tool's service.
 */
import { type Span, SpanKind } from '../../src/index.js'
import type { ChatModel, Message, ModelReply, ToolCall } from './stub-model.js'

export interface AgentTools {
  /** Where `retrieve` POSTs `{ query }` (the retrieval service). */
  readonly retrievalUrl: string
  /** Where `enqueue` POSTs `{ task }` (the service that puts it on a queue). */
  readonly enqueueUrl: string
}

/** Per-request options of {@link runAgent}. */
export interface AgentRunOptions {
  /**
   * Fault injection: `'retrieval'` asks the retrieval tool to fail (its `x-retrieval-fail`
   * header), to show an error deep in another service. The model's tool arguments stay as
   * they are.
   */
  readonly failAt?: 'retrieval'
}

/** The retrieval example's fault switch (examples/retrieval-lambda/handler.ts). */
const RETRIEVAL_FAIL_HEADER = 'x-retrieval-fail'

export interface AgentResult {
  readonly answer: string
  readonly turns: number
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number }
}

const MAX_TURNS = 4

/** One model call as an OTel GenAI client span (`chat stub-1`), LangSmith run type `llm`. */
function callModel(parent: Span, model: ChatModel, messages: readonly Message[]): Promise<ModelReply> {
  return parent.child(
    `chat ${model.name}`,
    {
      kind: SpanKind.CLIENT,
      runType: 'llm',
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': model.provider,
        'gen_ai.request.model': model.name,
      },
    },
    async (span) => {
      const reply = await model.chat(messages)
      span.set({
        'gen_ai.response.model': reply.model,
        'gen_ai.response.finish_reasons': [reply.finishReason],
        'gen_ai.usage.input_tokens': reply.usage.inputTokens,
        'gen_ai.usage.output_tokens': reply.usage.outputTokens,
      })
      return reply
    },
  )
}

/** One tool call (`execute_tool retrieve`): a POST through the span, so the trace goes along. */
function runTool(
  parent: Span,
  call: ToolCall,
  tools: AgentTools,
  options: AgentRunOptions,
): Promise<Message> {
  const url = call.name === 'retrieve' ? tools.retrievalUrl : tools.enqueueUrl
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  const fail = call.name === 'retrieve' && options.failAt === 'retrieval'
  if (fail) headers[RETRIEVAL_FAIL_HEADER] = '1'
  return parent.child(
    `execute_tool ${call.name}`,
    {
      runType: 'tool',
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': call.name,
        'gen_ai.tool.call.id': call.id,
        // Says on the trace that this failure was asked for.
        ...(fail ? { 'demo.fail_at': 'retrieval' } : {}),
      },
    },
    async (span): Promise<Message> => {
      const res = await span.fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(call.arguments),
      })
      const text = await res.text()
      if (!res.ok) throw new Error(`${call.name} failed: HTTP ${res.status}`)
      return { role: 'tool', name: call.name, content: text.slice(0, 500) }
    },
  )
}

/**
 * Runs the agent: model, tools in parallel, model again, until the model stops.
 *
 * @example
 * const result = await runAgent(traceOf(request), 'What changed in v2?', createStubModel(), tools)
 */
export function runAgent(
  parent: Span,
  question: string,
  model: ChatModel,
  tools: AgentTools,
  options: AgentRunOptions = {},
): Promise<AgentResult> {
  return parent.child(
    'agent',
    { runType: 'chain', attributes: { 'gen_ai.operation.name': 'invoke_agent' } },
    async (agent) => {
      const messages: Message[] = [
        { role: 'system', content: 'You answer with the help of the retrieve and enqueue tools.' },
        { role: 'user', content: question },
      ]
      let inputTokens = 0
      let outputTokens = 0
      for (let turn = 1; turn <= MAX_TURNS; turn++) {
        const reply = await callModel(agent, model, messages)
        inputTokens += reply.usage.inputTokens
        outputTokens += reply.usage.outputTokens
        if (reply.toolCalls.length === 0) {
          agent.set({
            'gen_ai.usage.input_tokens': inputTokens,
            'gen_ai.usage.output_tokens': outputTokens,
          })
          return { answer: reply.content, turns: turn, usage: { inputTokens, outputTokens } }
        }
        messages.push({ role: 'assistant', content: reply.toolCalls.map((c) => c.name).join(',') })
        // Fan-out: each tool span is created from `agent`, so neither can pick the wrong parent.
        const results = await Promise.all(reply.toolCalls.map((call) => runTool(agent, call, tools, options)))
        messages.push(...results)
      }
      throw new Error(`agent: no answer after ${MAX_TURNS} turns`)
    },
  )
}
