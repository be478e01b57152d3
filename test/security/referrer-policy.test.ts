// The referrer a redirect hop of span.fetch() is sent with (src/referrer-policy.ts), on the
// cases a local server cannot show: https pages, a downgrade to http, userinfo, local schemes.
import { describe, expect, it } from 'vitest'
import { parseReferrerPolicyHeader, referrerFor } from '../../src/referrer-policy.js'

describe('parseReferrerPolicyHeader (Referrer Policy §8.1)', () => {
  it('the last token that is a policy wins; unknown tokens and other cases are skipped', () => {
    expect(parseReferrerPolicyHeader('unsafe-url, bogus, no-referrer')).toBe('no-referrer')
    expect(parseReferrerPolicyHeader('no-referrer, bogus')).toBe('no-referrer')
    expect(parseReferrerPolicyHeader('same-origin ,\torigin , bogus')).toBe('origin')
    // A policy is one of the exact §3 strings (as Node's fetch matches them).
    expect(parseReferrerPolicyHeader('No-Referrer')).toBe('')
    expect(parseReferrerPolicyHeader('bogus')).toBe('')
    expect(parseReferrerPolicyHeader(',,')).toBe('')
    expect(parseReferrerPolicyHeader('')).toBe('')
    expect(parseReferrerPolicyHeader(null)).toBe('')
  })
})

describe('referrerFor (Referrer Policy §8.3, §8.4)', () => {
  const page = 'https://user:pw@app.example/page?q=1#frag'
  const full = 'https://app.example/page?q=1'
  const origin = 'https://app.example/'
  const same = new URL('https://app.example/next')
  const cross = new URL('https://other.example/')
  const downgrade = new URL('http://other.example/')

  it('cuts the referrer as each policy says: same origin, cross origin, downgrade', () => {
    const table: Record<string, [string, string, string]> = {
      'no-referrer': ['', '', ''],
      origin: [origin, origin, origin],
      'unsafe-url': [full, full, full],
      'strict-origin': [origin, origin, ''],
      'strict-origin-when-cross-origin': [full, origin, ''],
      '': [full, origin, ''],
      'same-origin': [full, '', ''],
      'origin-when-cross-origin': [full, origin, origin],
      'no-referrer-when-downgrade': [full, full, ''],
    }
    for (const [policy, expected] of Object.entries(table)) {
      expect(
        [same, cross, downgrade].map((url) => referrerFor(page, policy, url)),
        policy,
      ).toEqual(expected)
    }
  })

  it('leaving a potentially trustworthy URL (https, loopback) for one that is not is a downgrade; none, client and other schemes are kept or dropped', () => {
    expect(referrerFor(page, 'strict-origin', new URL('http://plain.example/'))).toBe('')
    // A loopback URL is potentially trustworthy whatever its scheme: no downgrade.
    expect(referrerFor(page, 'strict-origin', new URL('http://127.0.0.1:8080/'))).toBe(origin)
    // A loopback referrer is potentially trustworthy (Secure Contexts §3.1): leaving it for a
    // host that is not is a downgrade; between loopback hosts it is not.
    expect(referrerFor('http://127.0.0.1/p', 'strict-origin', downgrade)).toBe('')
    expect(referrerFor('http://localhost:8080/p', 'strict-origin', downgrade)).toBe('')
    expect(referrerFor('http://api.localhost/p', 'strict-origin', downgrade)).toBe('')
    expect(referrerFor('http://[::1]:8080/p', 'strict-origin', downgrade)).toBe('')
    expect(referrerFor('http://127.0.0.1:1/p', 'strict-origin', new URL('http://127.0.0.2:2/'))).toBe(
      'http://127.0.0.1:1/',
    )
    expect(referrerFor('http://10.0.0.1/p', 'strict-origin', downgrade)).toBe('http://10.0.0.1/')
    expect(referrerFor('', 'unsafe-url', cross)).toBe('')
    expect(referrerFor('about:client', 'unsafe-url', cross)).toBe('about:client')
    expect(referrerFor('data:text/plain,x', 'unsafe-url', cross)).toBe('')
    // Another scheme's origin is opaque ("null"): no referrer rather than a made-up one.
    expect(referrerFor('file:///home/me/page.html', 'origin', cross)).toBe('')
    expect(referrerFor('foo://bar/baz', 'unsafe-url', cross)).toBe('')
  })

  it('a referrer longer than 4096 characters is sent as its origin (§8.3 step 6)', () => {
    const long = `https://app.example/${'a'.repeat(5000)}`
    expect(referrerFor(long, 'unsafe-url', cross)).toBe(origin)
    expect(referrerFor(long, 'unsafe-url', same)).toBe(origin)
  })

  it('a string that is no policy gets the default policy, even one named like an Object.prototype member', () => {
    for (const policy of ['constructor', 'toString', '__proto__', 'bogus']) {
      expect(
        [same, cross, downgrade].map((url) => referrerFor(page, policy, url)),
        policy,
      ).toEqual([full, origin, ''])
    }
  })

  it('is the same when applied again: a hop sent with a cut referrer sends it as it is', () => {
    for (const policy of [
      'origin',
      'same-origin',
      'strict-origin-when-cross-origin',
      'origin-when-cross-origin',
    ]) {
      for (const url of [same, cross, downgrade]) {
        const once = referrerFor(page, policy, url)
        expect(referrerFor(once, policy, url)).toBe(once)
      }
    }
  })
})
