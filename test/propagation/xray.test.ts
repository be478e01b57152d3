import { createRequire } from 'node:module'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatXRay,
  parseXRay,
  traceIdToXrayRoot,
  XRAY_HEADER,
  xrayRootToTraceId,
} from '../../src/propagation/xray.js'
import type { XRayHeader } from '../../src/trace-context.js'

// The AWS X-Ray SDK for Node (a dependency of @aws-lambda-powertools/tracer): its own header
// splitter, used as the reference for field handling.
const require = createRequire(import.meta.url)
const awsUtils = require('aws-xray-sdk-core/dist/lib/utils.js') as {
  processTraceData(header: string): { root?: string; parent?: string; sampled?: string }
}

// AWS documentation examples (X-Ray developer guide, "Tracing header").
const AWS_ROOT = '1-5759e988-bd862e3fe1be46a994272793'
const AWS_TRACE_ID = '5759e988bd862e3fe1be46a994272793'
const AWS_PARENT = '53995c3f42cd8ad8'
const AWS_FULL = `Root=${AWS_ROOT};Parent=${AWS_PARENT};Sampled=1`
// Elastic Load Balancing documentation example.
const ALB_ROOT = '1-67891233-abcdef012345678912345678'

const hexString = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length })
const validRoot = fc
  .tuple(hexString(8), hexString(24))
  .filter(([a, b]) => !/^0+$/.test(a + b))
  .map(([a, b]) => `1-${a}-${b}`)
const validParent = hexString(16).filter((s) => !/^0+$/.test(s))
const validHeader: fc.Arbitrary<XRayHeader> = fc.record(
  {
    root: validRoot,
    parent: validParent,
    sampled: fc.boolean(),
    lineage: fc.constantFrom('a87bd80c:1|68fd508a:5', '1:a87bd80c:0', '10:11111111:1'),
  },
  { requiredKeys: ['root'] },
)

describe('X-Ray header name', () => {
  it('is the lower-case X-Amzn-Trace-Id', () => {
    expect(XRAY_HEADER).toBe('x-amzn-trace-id')
  })
})

describe('X-Ray root <-> W3C trace id (OTel propagator-aws-xray mapping)', () => {
  it('maps the AWS example root to epoch + unique part', () => {
    expect(xrayRootToTraceId(AWS_ROOT)).toBe(AWS_TRACE_ID)
    expect(xrayRootToTraceId(ALB_ROOT)).toBe('67891233abcdef012345678912345678')
  })

  it('maps the AWS example trace id back to its root', () => {
    expect(traceIdToXrayRoot(AWS_TRACE_ID)).toBe(AWS_ROOT)
  })

  it('lower-cases upper-case hex digits (trace ids inside tracehop are lower case)', () => {
    expect(xrayRootToTraceId('1-5759E988-BD862E3FE1BE46A994272793')).toBe(AWS_TRACE_ID)
  })

  it('rejects version other than 1', () => {
    expect(xrayRootToTraceId('2-5759e988-bd862e3fe1be46a994272793')).toBeUndefined()
    expect(xrayRootToTraceId('0-5759e988-bd862e3fe1be46a994272793')).toBeUndefined()
  })

  it('rejects wrong lengths of the epoch and unique parts', () => {
    expect(xrayRootToTraceId('1-5759e98-bd862e3fe1be46a9942727934')).toBeUndefined()
    expect(xrayRootToTraceId('1-5759e9888-bd862e3fe1be46a99427279')).toBeUndefined()
    expect(xrayRootToTraceId('1-5759e988-bd862e3fe1be46a99427279')).toBeUndefined()
    expect(xrayRootToTraceId('1-5759e988-bd862e3fe1be46a9942727933')).toBeUndefined()
    expect(xrayRootToTraceId('')).toBeUndefined()
  })

  it('rejects misplaced delimiters and non-hex digits', () => {
    expect(xrayRootToTraceId('1_5759e988-bd862e3fe1be46a994272793')).toBeUndefined()
    expect(xrayRootToTraceId('1-5759e988_bd862e3fe1be46a994272793')).toBeUndefined()
    expect(xrayRootToTraceId('1-5759e98g-bd862e3fe1be46a994272793')).toBeUndefined()
    expect(xrayRootToTraceId('1-5759e988-bd862e3fe1be46a99427279z')).toBeUndefined()
  })

  it('rejects the root that maps to the all-zero (invalid) W3C trace id', () => {
    expect(xrayRootToTraceId('1-00000000-000000000000000000000000')).toBeUndefined()
    expect(xrayRootToTraceId('1-00000000-000000000000000000000001')).toBe('00000000000000000000000000000001')
  })

  it('round-trips every valid trace id', () => {
    fc.assert(
      fc.property(
        hexString(32).filter((s) => !/^0+$/.test(s)),
        (id) => xrayRootToTraceId(traceIdToXrayRoot(id)) === id,
      ),
    )
  })
})

describe('parseXRay', () => {
  it('parses the AWS documentation example', () => {
    expect(parseXRay(AWS_FULL)).toEqual({ root: AWS_ROOT, parent: AWS_PARENT, sampled: true })
  })

  it('parses Sampled=0 as not sampled', () => {
    expect(parseXRay(`Root=${AWS_ROOT};Parent=${AWS_PARENT};Sampled=0`)?.sampled).toBe(false)
  })

  it('leaves the decision absent for Sampled=? (the receiver decides)', () => {
    const h = parseXRay(`Root=${AWS_ROOT};Parent=${AWS_PARENT};Sampled=?`)
    expect(h).toEqual({ root: AWS_ROOT, parent: AWS_PARENT })
    expect(h && 'sampled' in h).toBe(false)
  })

  it('accepts a Root-only header (Lambda pass-through, ALB) with parent and sampled absent', () => {
    const h = parseXRay(`Root=${ALB_ROOT}`)
    expect(h).toEqual({ root: ALB_ROOT })
    expect(h && ('parent' in h || 'sampled' in h)).toBe(false)
  })

  it('keeps Lineage opaque, byte for byte (v1 and v2 forms)', () => {
    const v1 = 'a87bd80c:1|68fd508a:5'
    expect(parseXRay(`${AWS_FULL};Lineage=${v1}`)?.lineage).toBe(v1)
    const v2 = '1:a87bd80c:3'
    expect(parseXRay(`${AWS_FULL};Lineage=${v2}`)?.lineage).toBe(v2)
  })

  it('accepts fields in any order', () => {
    expect(parseXRay(`Lineage=a87bd80c:1;Sampled=1;Parent=${AWS_PARENT};Root=${AWS_ROOT}`)).toEqual({
      root: AWS_ROOT,
      parent: AWS_PARENT,
      sampled: true,
      lineage: 'a87bd80c:1',
    })
  })

  it('reads keys case-insensitively, as the AWS X-Ray SDK for Node does', () => {
    expect(parseXRay(`root=${AWS_ROOT};PARENT=${AWS_PARENT};sampled=1`)).toEqual({
      root: AWS_ROOT,
      parent: AWS_PARENT,
      sampled: true,
    })
  })

  it('tolerates spaces around fields, keys and values, and a trailing semicolon', () => {
    expect(parseXRay(`  Root = ${AWS_ROOT} ; Parent=${AWS_PARENT} ;\tSampled=1 ;`)).toEqual({
      root: AWS_ROOT,
      parent: AWS_PARENT,
      sampled: true,
    })
  })

  it('lower-cases upper-case hex in Root and Parent', () => {
    expect(parseXRay(`Root=${AWS_ROOT.toUpperCase()};Parent=${AWS_PARENT.toUpperCase()}`)).toEqual({
      root: AWS_ROOT,
      parent: AWS_PARENT,
    })
  })

  it('ignores the ALB Self field and application fields', () => {
    expect(parseXRay(`Self=1-67891233-12456789abcdef012345678;Root=${ALB_ROOT};CalledFrom=app`)).toEqual({
      root: ALB_ROOT,
    })
  })

  it('rejects a header without Root', () => {
    expect(parseXRay(`Parent=${AWS_PARENT};Sampled=1`)).toBeUndefined()
    expect(parseXRay('')).toBeUndefined()
    expect(parseXRay(' ; ;')).toBeUndefined()
  })

  it('rejects a bad Root version, length or digits', () => {
    expect(parseXRay(`Root=2-5759e988-bd862e3fe1be46a994272793;Parent=${AWS_PARENT}`)).toBeUndefined()
    expect(parseXRay('Root=1-5759e988-bd862e3fe1be46a99427279')).toBeUndefined()
    expect(parseXRay('Root=1-5759e988-bd862e3fe1be46a99427279x')).toBeUndefined()
    expect(parseXRay('Root=1-00000000-000000000000000000000000')).toBeUndefined()
  })

  it('rejects a bad Parent: length, non-hex, all zero', () => {
    expect(parseXRay(`Root=${AWS_ROOT};Parent=53995c3f42cd8ad`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};Parent=53995c3f42cd8ad8a`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};Parent=53995c3f42cd8adz`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};Parent=0000000000000000`)).toBeUndefined()
  })

  it('rejects a Sampled value other than 1, 0 or ?', () => {
    for (const v of ['2', 'true', '', '01', 'yes']) {
      expect(parseXRay(`Root=${AWS_ROOT};Parent=${AWS_PARENT};Sampled=${v}`)).toBeUndefined()
    }
  })

  it('rejects a known key given twice, even with the same value or other casing', () => {
    expect(parseXRay(`Root=${AWS_ROOT};Root=${AWS_ROOT}`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};root=${ALB_ROOT}`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};Parent=${AWS_PARENT};Parent=${AWS_PARENT}`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};Sampled=1;Sampled=0`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};Lineage=a87bd80c:1;Lineage=a87bd80c:2`)).toBeUndefined()
  })

  it('rejects garbage: fields without =, empty keys, unsafe Lineage characters', () => {
    expect(parseXRay('garbage')).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};garbage`)).toBeUndefined()
    expect(parseXRay(`=x;Root=${AWS_ROOT}`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};Lineage=`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};Lineage=a b`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};Lineage=a,b`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT};Lineage=${'a'.repeat(257)}`)).toBeUndefined()
    expect(parseXRay(`Root=${AWS_ROOT}, Root=${ALB_ROOT}`)).toBeUndefined()
  })

  it('never throws, whatever the input', () => {
    const fragments = fc.constantFrom(
      'Root=',
      'Parent=',
      'Sampled=',
      'Lineage=',
      'Self=',
      ';',
      '=',
      ' ',
      '1-',
      '-',
      AWS_ROOT,
      AWS_PARENT,
      '1',
      '0',
      '?',
    )
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fragments).map((a) => a.join('')),
        ),
        (s) => {
          const h = parseXRay(s)
          // Whatever it accepts is canonical: it formats and re-parses to itself.
          if (h !== undefined) expect(parseXRay(formatXRay(h))).toEqual(h)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('agrees with the AWS X-Ray SDK for Node on Root, Parent and Sampled of valid headers', () => {
    fc.assert(
      fc.property(validHeader, fc.boolean(), (h, lowerKeys) => {
        let text = formatXRay(h)
        if (lowerKeys)
          text = text.replace(/(^|;)(\w+)=/g, (_m, sep: string, k: string) => `${sep}${k.toLowerCase()}=`)
        const aws = awsUtils.processTraceData(text)
        const ours = parseXRay(text)
        expect(ours?.root).toBe(aws.root)
        expect(ours?.parent).toBe(aws.parent)
        expect(ours?.sampled === undefined ? undefined : ours.sampled ? '1' : '0').toBe(aws.sampled)
      }),
    )
  })
})

describe('formatXRay', () => {
  it('writes the fields in the order AWS emits them: Root, Parent, Sampled, Lineage', () => {
    expect(formatXRay({ lineage: 'a87bd80c:1', sampled: true, parent: AWS_PARENT, root: AWS_ROOT })).toBe(
      `Root=${AWS_ROOT};Parent=${AWS_PARENT};Sampled=1;Lineage=a87bd80c:1`,
    )
  })

  it('writes Sampled=0 for an unsampled context', () => {
    expect(formatXRay({ root: AWS_ROOT, parent: AWS_PARENT, sampled: false })).toBe(
      `Root=${AWS_ROOT};Parent=${AWS_PARENT};Sampled=0`,
    )
  })

  it('writes a Root-only header when parent and decision are absent', () => {
    expect(formatXRay({ root: AWS_ROOT })).toBe(`Root=${AWS_ROOT}`)
  })

  it('round-trips through parseXRay', () => {
    expect(formatXRay(parseXRay(`${AWS_FULL};Lineage=a87bd80c:1|68fd508a:5`)!)).toBe(
      `${AWS_FULL};Lineage=a87bd80c:1|68fd508a:5`,
    )
    fc.assert(
      fc.property(validHeader, (h) => {
        expect(parseXRay(formatXRay(h))).toEqual(h)
      }),
    )
  })
})
