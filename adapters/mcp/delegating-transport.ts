import type { JsonRpcMessage, McpMessageExtra, McpSendOptions, McpTransport } from './transport.js'

/**
 * What the client and server wrappers share: every member of the wrapped transport is
 * delegated, and the callbacks set on it before wrapping keep working (the SDK composes
 * them). Subclasses see each incoming message in `receive` and end what is in flight in
 * `transportClosed`.
 */
export abstract class DelegatingTransport implements McpTransport {
  onclose: McpTransport['onclose']
  onerror: McpTransport['onerror']
  onmessage: McpTransport['onmessage']
  protected readonly inner: McpTransport
  protected version: string | undefined

  constructor(inner: McpTransport) {
    this.inner = inner
    this.onclose = inner.onclose
    this.onerror = inner.onerror
    this.onmessage = inner.onmessage
    inner.onmessage = (message, extra) => this.receive(message, extra)
    inner.onclose = () => {
      this.transportClosed()
      this.onclose?.()
    }
    inner.onerror = (error) => this.onerror?.(error)
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId
  }

  setProtocolVersion(version: string): void {
    this.version = version
    this.inner.setProtocolVersion?.(version)
  }

  start(): Promise<void> {
    return this.inner.start()
  }

  abstract send(message: JsonRpcMessage | readonly JsonRpcMessage[], options?: McpSendOptions): Promise<void>
  abstract close(): Promise<void>
  protected abstract receive(message: JsonRpcMessage, extra?: McpMessageExtra): void
  protected abstract transportClosed(): void
}
