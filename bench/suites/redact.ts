/**
 * URL redaction cost: `redactUrl` (userinfo and sensitive query values out of `url.full`)
 * against reading `url.href` as the spans did before, on an already parsed URL (the server
 * and client spans parse it anyway; `new URL(href)` is shown for scale). A URL whose query
 * has no `=` costs one scan.
 */
import { redactUrl, resolveRedaction } from '../../src/redact-url.js'
import { compare } from '../harness.js'

const redaction = resolveRedaction({ queryParams: ['token'] })

const CASES: Record<string, string> = {
  'no query': 'https://api.example.com/v1/users/42',
  'query without =': 'https://api.example.com/v1/users/42?verbose',
  'query, nothing sensitive': 'https://api.example.com/v1/search?q=llm+agents&page=2&sort=desc&limit=20',
  'S3 presigned (SigV4)':
    'https://bucket.s3.eu-west-1.amazonaws.com/key.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
    '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240617%2Feu-west-1%2Fs3%2Faws4_request' +
    '&X-Amz-Date=20240617T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host' +
    '&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE&X-Amz-Signature=' +
    'fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024',
  userinfo: 'https://alice:s3cret@api.example.com/v1/users',
  // Hostile: 16 K empty parameters before the only `=` (once quadratic: each `&` searched
  // on for the next `=`).
  'hostile: 16 K `&` then sig=': `https://api.example.com/?${'&'.repeat(16_384)}sig=s`,
}

export async function run(): Promise<void> {
  for (const [name, href] of Object.entries(CASES)) {
    const url = new URL(href)
    compare({
      name: `url.full: ${name}`,
      ours: { label: 'redactUrl', fn: () => redactUrl(url, redaction) },
      theirs: [
        { label: 'url.href (before)', fn: () => url.href },
        // What every HTTP span already pays: parsing the request's URL.
        { label: 'new URL(href)', fn: () => new URL(href) },
      ],
    })
  }
}
