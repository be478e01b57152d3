// Message bodies are read member by member (adapters/lambda/json-members.ts): only the
// members that carry context are parsed, never a sender's whole body. Same answers as
// JSON.parse for well-formed JSON; bounded, and never thrown on, for anything else.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { recordCarrierOf, snsEnvelopeAttributes } from '../../adapters/lambda/carriers.js'
import { memberExtents, parseMember } from '../../adapters/lambda/json-members.js'

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('memberExtents', () => {
  it('finds the same values JSON.parse does, for any JSON object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue()), fc.boolean(), (obj, pretty) => {
        const text = pretty ? JSON.stringify(obj, null, 2) : JSON.stringify(obj)
        const keys = Object.keys(obj).filter((k) => /^[\w-]*$/.test(k))
        const at = memberExtents(text, 0, keys)
        expect(at).toBeDefined()
        for (const k of keys)
          expect(parseMember(text, at!.get(k), Number.POSITIVE_INFINITY)).toEqual(JSON.parse(text)[k])
      }),
    )
  })

  it('skips strings holding braces and escaped quotes; the last of a repeated name wins', () => {
    const text = '{"a":"}{\\"][","n":[{"x":"}"}],"a":{"b":1}}'
    const at = memberExtents(text, 0, ['a', 'n'])
    expect(parseMember(text, at!.get('a'), 100)).toEqual({ b: 1 })
    expect(parseMember(text, at!.get('n'), 100)).toEqual([{ x: '}' }])
  })

  it('is undefined for text that is no object, truncated or malformed; never throws', () => {
    for (const t of ['', '[1]', '"s"', '{', '{"a":', '{"a":1', '{"a" 1}', '{a:1}', '{"a":"x']) {
      expect(memberExtents(t, 0, ['a'])).toBeUndefined()
    }
    fc.assert(
      fc.property(fc.string(), (t) => {
        memberExtents(t, 0, ['a'])
      }),
    )
  })

  it('parses a member only up to its size limit', () => {
    const text = JSON.stringify({ big: 'x'.repeat(1000), small: 1 })
    const at = memberExtents(text, 0, ['big', 'small'])
    expect(parseMember(text, at!.get('big'), 100)).toBeUndefined()
    expect(parseMember(text, at!.get('small'), 100)).toBe(1)
  })
})

function sqsRecord(body: string) {
  return { eventSource: 'aws:sqs', body, messageAttributes: {}, attributes: {} }
}

describe('SQS record bodies from any sender', () => {
  it('an SNS envelope padded with deeply nested data still yields its context; the padding is never parsed', () => {
    const body = JSON.stringify({
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:t',
      pad: Array.from({ length: 20_000 }, (_, i) => ({ a: [i] })),
      MessageAttributes: { traceparent: { Type: 'String', Value: TP } },
    })
    expect(recordCarrierOf(sqsRecord(body))?.get('traceparent')).toBe(TP)
  })

  it('an SNS envelope with a large attribute of the sender’s own still yields tracehop’s attributes', () => {
    const body = JSON.stringify({
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:t',
      MessageAttributes: {
        big: { Type: 'String', Value: 'x'.repeat(100_000) },
        traceparent: { Type: 'String', Value: TP },
      },
    })
    expect(snsEnvelopeAttributes(body)?.['traceparent']).toEqual({ Type: 'String', Value: TP })
  })

  it('EventBridge: detail._tracehop is read only at that place, never nested deeper', () => {
    const event = (detail: unknown) => JSON.stringify({ 'detail-type': 't', source: 's', detail })
    expect(recordCarrierOf(sqsRecord(event({ _tracehop: { traceparent: TP } })))?.get('traceparent')).toBe(TP)
    expect(
      recordCarrierOf(sqsRecord(event({ inner: { _tracehop: { traceparent: TP } } })))?.get('traceparent'),
    ).toBeUndefined()
    // Without detail-type it is no EventBridge event.
    const bare = JSON.stringify({ detail: { _tracehop: { traceparent: TP } } })
    expect(recordCarrierOf(sqsRecord(bare))?.get('traceparent')).toBeUndefined()
  })

  it('a body that is not an SNS envelope gives no attributes', () => {
    for (const body of [
      JSON.stringify({ Type: 'Notification', MessageAttributes: {} }),
      JSON.stringify({ Type: 'Other', TopicArn: 'x', MessageAttributes: {} }),
      '{"Type":"Notification","TopicArn":"x","MessageAttributes":{',
      'Notification',
    ]) {
      expect(snsEnvelopeAttributes(body)).toBeUndefined()
    }
  })
})
