/**
 * A deterministic stand-in for an LLM: the same messages always give the same reply and
 * the same token counts, so the demo's waterfall is reproducible. First turn: it asks for
 * both tools; once tool results are in the conversation: it answers.
 */

export interface Message {
  readonly role: 'system' | 'user' | 'assistant' | 'tool'
  readonly content: string
  /** For `tool` messages: which tool produced it. */
  readonly name?: string
}

export interface ToolCall {
  readonly id: string
  readonly name: 'retrieve' | 'enqueue'
  readonly arguments: Readonly<Record<string, string>>
}

export interface ModelReply {
  readonly model: string
  readonly content: string
  readonly toolCalls: readonly ToolCall[]
  readonly finishReason: 'tool_calls' | 'stop'
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number }
}

/** A model: the stub below, or an adapter over a real provider with the same shape. */
export interface ChatModel {
  readonly name: string
  readonly provider: string
  chat(messages: readonly Message[]): Promise<ModelReply>
}

/** Whitespace-separated words, as a stable stand-in for a tokenizer. */
export function countTokens(text: string): number {
  let n = 0
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const space = text.charCodeAt(i) <= 32
    if (!space && !inWord) n++
    inWord = !space
  }
  return n
}

/**
 * The deterministic stub model (`stub-1`). `latencyMs` simulates generation time so the
 * model spans have a visible width in the demo.
 *
 * @example
 * const reply = await createStubModel().chat([{ role: 'user', content: 'What changed in v2?' }])
 * reply.toolCalls.map((c) => c.name) // ['retrieve', 'enqueue']
 */
export function createStubModel(options?: { readonly latencyMs?: number }): ChatModel {
  const latency = options?.latencyMs ?? 25
  return {
    name: 'stub-1',
    provider: 'stub',
    async chat(messages) {
      await new Promise((r) => setTimeout(r, latency))
      const inputTokens = messages.reduce((sum, m) => sum + countTokens(m.content) + 4, 0)
      const question = [...messages].reverse().find((m) => m.role === 'user')?.content ?? ''
      const toolResults = messages.filter((m) => m.role === 'tool')
      if (toolResults.length === 0) {
        const toolCalls: ToolCall[] = [
          { id: 'call_1', name: 'retrieve', arguments: { query: question } },
          { id: 'call_2', name: 'enqueue', arguments: { task: `index: ${question}` } },
        ]
        return {
          model: 'stub-1',
          content: '',
          toolCalls,
          finishReason: 'tool_calls',
          usage: { inputTokens, outputTokens: 8 * toolCalls.length },
        }
      }
      const facts = toolResults.map((m) => `${m.name}: ${m.content}`).join('; ')
      const content = `Answer to "${question}" based on ${toolResults.length} tool results (${facts}).`
      return {
        model: 'stub-1',
        content,
        toolCalls: [],
        finishReason: 'stop',
        usage: { inputTokens, outputTokens: countTokens(content) },
      }
    },
  }
}
