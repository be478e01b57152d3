/** `T` with its `readonly` dropped: for building a readonly record field by field before handing it out. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] }
