/** A method of a user's class, called with its own `this`. */
// biome-ignore lint/suspicious/noExplicitAny: a method called with its own arguments; `unknown[]` would reject every typed handler (parameters are contravariant)
export type Handler = (...args: any[]) => unknown

/**
 * The method `name` as the class defines it (walking the prototype chain, stopping at
 * `Object.prototype`), or undefined when it is absent or not a function. Used to wrap a
 * Durable Object's or Workflow's own handlers without patching any prototype.
 */
export function findMethod(proto: object | null, name: string): Handler | undefined {
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, name)
    if (d !== undefined) return typeof d.value === 'function' ? (d.value as Handler) : undefined
  }
  return undefined
}
