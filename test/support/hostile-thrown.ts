/**
 * Values a handler may throw that break naive exception recording (reading `name`,
 * `message` or `String(err)` throws, or `instanceof` does). tracehop must rethrow each of
 * them as the very same value. Factories: a revoked Proxy or a getter must be made fresh in
 * the realm that throws it (workerd, edge-runtime, Node).
 */
function errorWhoseGetterThrows(key: 'name' | 'message'): Error {
  const e = new Error(key)
  Object.defineProperty(e, key, {
    get() {
      throw new Error(`${key} getter`)
    },
  })
  return e
}

export const HOSTILE_THROWN: Readonly<Record<string, () => unknown>> = {
  'Error whose name getter throws': () => errorWhoseGetterThrows('name'),
  'Error whose message getter throws': () => errorWhoseGetterThrows('message'),
  'Proxy of an Error whose every get throws': () =>
    new Proxy(new Error('proxied'), {
      get() {
        throw new Error('get trap')
      },
    }),
  'revoked Proxy': () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    return proxy
  },
  'object whose toString throws': () => ({
    toString() {
      throw new Error('toString')
    },
  }),
  'Object.create(null)': () => Object.create(null),
  undefined: () => undefined,
  symbol: () => Symbol('thrown'),
  'frozen Error': () => Object.freeze(new Error('frozen')),
}
