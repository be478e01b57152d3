/**
 * The `--json` file: every stored span appended as one JSON line, in arrival order. A
 * write error is reported once and the collector keeps running.
 */
import { type FileHandle, open } from 'node:fs/promises'
import { TracehopError } from '../src/errors.js'
import type { CollectedSpan } from './types.js'

export interface JsonLines {
  append(spans: readonly CollectedSpan[]): void
  /** Waits for pending writes, then closes the file. */
  close(): Promise<void>
}

/** Opens `path` for appending; rejects with a `TracehopError` when it cannot. */
export async function openJsonLines(path: string, log: (line: string) => void): Promise<JsonLines> {
  let file: FileHandle
  try {
    file = await open(path, 'a')
  } catch (e) {
    throw new TracehopError(`cannot open ${path} for --json: ${(e as Error).message}`, { cause: e })
  }
  let writes: Promise<void> = Promise.resolve()
  let failed = false
  return {
    append(spans) {
      if (spans.length === 0) return
      let text = ''
      for (const s of spans) text += `${JSON.stringify(s)}\n`
      writes = writes
        .then(async () => {
          await file.write(text)
        })
        .catch((e: unknown) => {
          if (!failed) log(`tracehop dev: writing ${path} failed: ${(e as Error).message}`)
          failed = true
        })
    },
    async close() {
      await writes
      await file.close()
    },
  }
}
