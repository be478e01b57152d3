// A local AWS endpoint on 127.0.0.1 that records the SDK's real serialized requests. SQS and
// SNS requests are forwarded to fauxqs (an in-memory SQS/SNS server) so the SDK gets real
// answers (SendMessage's body MD5 is checked by the SDK); EventBridge PutEvents and Lambda
// Invoke are answered here, in the shapes the real services use.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startFauxqs } from 'fauxqs'

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** `AmazonSQS.SendMessage`, `SNS.Publish`, `AWSEvents.PutEvents`, `Lambda.Invoke`, … */
  readonly operation: string
}

export interface AwsEndpoint {
  readonly url: string
  readonly requests: RecordedRequest[]
  readonly fauxqs: Awaited<ReturnType<typeof startFauxqs>>
  /** Makes the next `n` forwarded requests fail with HTTP 500 (a service error). */
  failNext(n: number): void
  close(): Promise<void>
}

export const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
}
export const REGION = 'us-east-1'

function operationOf(path: string, headers: IncomingHttpHeaders, body: string): string {
  const target = headers['x-amz-target']
  if (typeof target === 'string') return target
  if (path.startsWith('/2015-03-31/functions/')) return 'Lambda.Invoke'
  const action = new URLSearchParams(body).get('Action')
  return action ? `SNS.${action}` : 'unknown'
}

export async function startAwsEndpoint(): Promise<AwsEndpoint> {
  const fauxqs = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' })
  const requests: RecordedRequest[] = []
  let failures = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const path = req.url ?? '/'
      const operation = operationOf(path, req.headers, body)
      requests.push({ method: req.method ?? '', path, headers: req.headers, body, operation })
      if (failures > 0) {
        failures--
        res.writeHead(500, {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': 'failed-request',
        })
        res.end(JSON.stringify({ __type: 'InternalError', message: 'injected failure' }))
        return
      }
      if (operation === 'AWSEvents.PutEvents') {
        const entries = (JSON.parse(body).Entries ?? []) as unknown[]
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'eb-request' })
        res.end(
          JSON.stringify({
            FailedEntryCount: 0,
            Entries: entries.map((_, i) => ({ EventId: `event-${i}` })),
          }),
        )
        return
      }
      if (operation === 'Lambda.Invoke') {
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-amzn-requestid': 'invoke-request',
          'x-amz-executed-version': '$LATEST',
        })
        res.end(JSON.stringify({ ok: true }))
        return
      }
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection')
          headers[k] = v
      }
      fetch(`${fauxqs.address}${path}`, {
        method: req.method ?? 'POST',
        headers,
        ...(body === '' ? {} : { body }),
      })
        .then(async (upstream) => {
          const text = await upstream.text()
          const out: Record<string, string> = {}
          upstream.headers.forEach((v, k) => {
            if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v
          })
          res.writeHead(upstream.status, out).end(text)
        })
        .catch(() => res.writeHead(502).end())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fauxqs,
    failNext(n) {
      failures = n
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
      await fauxqs.stop()
    },
  }
}

/** The form fields of a Query-protocol (SNS) request body. */
export function formFields(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body))
}

/** SNS Query protocol: `MessageAttributes.entry.N.Name/Value.*` → `{ name: { DataType, StringValue } }`. */
export function snsAttributes(
  fields: Record<string, string>,
  prefix = 'MessageAttributes',
): Record<string, { DataType: string | undefined; StringValue: string | undefined }> {
  const out: Record<string, { DataType: string | undefined; StringValue: string | undefined }> = {}
  for (let i = 1; fields[`${prefix}.entry.${i}.Name`] !== undefined; i++) {
    out[fields[`${prefix}.entry.${i}.Name`]!] = {
      DataType: fields[`${prefix}.entry.${i}.Value.DataType`],
      StringValue: fields[`${prefix}.entry.${i}.Value.StringValue`],
    }
  }
  return out
}

/** A message from `ReceiveMessage` as Lambda's SQS event source delivers it (camelCase attributes). */
export function toLambdaSqsRecord(message: any, queueArn: string): Record<string, unknown> {
  const messageAttributes: Record<string, unknown> = {}
  for (const [name, a] of Object.entries<any>(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: a.StringValue,
      stringListValues: [],
      binaryListValues: [],
      dataType: a.DataType,
    }
  }
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes: { ...message.Attributes },
    messageAttributes,
    md5OfBody: message.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: REGION,
  }
}
