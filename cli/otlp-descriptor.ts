/**
 * The OTLP trace messages as a protobufjs JSON descriptor: the subset of
 * opentelemetry-proto v1 the collector reads and answers with. Field names are the
 * camelCase ones protobufjs derives from the .proto files; field numbers are those of
 *   opentelemetry/proto/collector/trace/v1/trace_service.proto,
 *   opentelemetry/proto/trace/v1/trace.proto,
 *   opentelemetry/proto/common/v1/common.proto,
 *   opentelemetry/proto/resource/v1/resource.proto,
 * and google/rpc/status.proto (the body of an OTLP/HTTP error response).
 * Fields not listed here (e.g. `Resource.entity_refs`) are skipped by the decoder.
 * Enums are read as `int32`: same wire encoding, and the collector maps the numbers itself.
 */

import type { IField, INamespace, IType } from 'protobufjs'

const repeated = (type: string, id: number): IField => ({ rule: 'repeated', type, id })

const messages: Record<string, IType> = {
  // collector/trace/v1/trace_service.proto
  ExportTraceServiceRequest: { fields: { resourceSpans: repeated('ResourceSpans', 1) } },
  ExportTraceServiceResponse: { fields: { partialSuccess: { type: 'ExportTracePartialSuccess', id: 1 } } },
  ExportTracePartialSuccess: {
    fields: { rejectedSpans: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
  },
  // trace/v1/trace.proto
  ResourceSpans: {
    fields: {
      resource: { type: 'Resource', id: 1 },
      scopeSpans: repeated('ScopeSpans', 2),
      schemaUrl: { type: 'string', id: 3 },
    },
  },
  ScopeSpans: {
    fields: {
      scope: { type: 'InstrumentationScope', id: 1 },
      spans: repeated('Span', 2),
      schemaUrl: { type: 'string', id: 3 },
    },
  },
  Span: {
    fields: {
      traceId: { type: 'bytes', id: 1 },
      spanId: { type: 'bytes', id: 2 },
      traceState: { type: 'string', id: 3 },
      parentSpanId: { type: 'bytes', id: 4 },
      flags: { type: 'fixed32', id: 16 },
      name: { type: 'string', id: 5 },
      kind: { type: 'int32', id: 6 },
      startTimeUnixNano: { type: 'fixed64', id: 7 },
      endTimeUnixNano: { type: 'fixed64', id: 8 },
      attributes: repeated('KeyValue', 9),
      droppedAttributesCount: { type: 'uint32', id: 10 },
      events: repeated('Event', 11),
      droppedEventsCount: { type: 'uint32', id: 12 },
      links: repeated('Link', 13),
      droppedLinksCount: { type: 'uint32', id: 14 },
      status: { type: 'Status', id: 15 },
    },
  },
  // Span.Event
  Event: {
    fields: {
      timeUnixNano: { type: 'fixed64', id: 1 },
      name: { type: 'string', id: 2 },
      attributes: repeated('KeyValue', 3),
      droppedAttributesCount: { type: 'uint32', id: 4 },
    },
  },
  // Span.Link
  Link: {
    fields: {
      traceId: { type: 'bytes', id: 1 },
      spanId: { type: 'bytes', id: 2 },
      traceState: { type: 'string', id: 3 },
      attributes: repeated('KeyValue', 4),
      droppedAttributesCount: { type: 'uint32', id: 5 },
      flags: { type: 'fixed32', id: 6 },
    },
  },
  // Field 1 is reserved (the deprecated code).
  Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
  // resource/v1/resource.proto
  Resource: {
    fields: { attributes: repeated('KeyValue', 1), droppedAttributesCount: { type: 'uint32', id: 2 } },
  },
  // common/v1/common.proto
  InstrumentationScope: {
    fields: {
      name: { type: 'string', id: 1 },
      version: { type: 'string', id: 2 },
      attributes: repeated('KeyValue', 3),
      droppedAttributesCount: { type: 'uint32', id: 4 },
    },
  },
  AnyValue: {
    oneofs: {
      value: {
        oneof: [
          'stringValue',
          'boolValue',
          'intValue',
          'doubleValue',
          'arrayValue',
          'kvlistValue',
          'bytesValue',
        ],
      },
    },
    fields: {
      stringValue: { type: 'string', id: 1 },
      boolValue: { type: 'bool', id: 2 },
      intValue: { type: 'int64', id: 3 },
      doubleValue: { type: 'double', id: 4 },
      arrayValue: { type: 'ArrayValue', id: 5 },
      kvlistValue: { type: 'KeyValueList', id: 6 },
      bytesValue: { type: 'bytes', id: 7 },
    },
  },
  ArrayValue: { fields: { values: repeated('AnyValue', 1) } },
  KeyValueList: { fields: { values: repeated('KeyValue', 1) } },
  KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
  // google/rpc/status.proto (details, field 3, are not sent)
  RpcStatus: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } },
}

/** The descriptor `protobuf.Root.fromJSON` takes. */
export const OTLP_TRACE_DESCRIPTOR: INamespace = {
  nested: messages,
}
