// A deterministic language model in the AI SDK's provider shape (LanguageModelV3), so the
// example runs with no account and no network.
import type { LanguageModel } from 'ai'

export function stubModel(): LanguageModel {
  return {
    specificationVersion: 'v3',
    provider: 'stub',
    modelId: 'stub-1',
    supportedUrls: {},
    async doGenerate() {
      return {
        content: [{ type: 'text', text: 'Check the retrieval index, then answer from the top result.' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: {
          inputTokens: { total: 12, noCache: 12, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: 11, text: 11, reasoning: undefined },
        },
        warnings: [],
      }
    },
    async doStream() {
      throw new Error('stub-1 does not stream')
    },
  } as LanguageModel
}
