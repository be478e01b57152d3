/**
 * XXH3-128 (seed 0, default secret), in plain JavaScript: Workers forbid compiling
 * WebAssembly at run time, and BigInt arithmetic costs microseconds per hash.
 *
 * Every 64-bit quantity is a pair of unsigned 32-bit halves. A 32×32→64 product is
 * `Math.imul` for the low half plus the double product for the high half: the double
 * `a*b` is off from the true product by at most 2^11, so `(a*b - lo) / 2^32` rounds to the
 * exact high half.
 *
 * Values travel between functions through one `Uint32Array` of registers, never as
 * arguments or return values: V8 boxes a number outside the small-integer range (a heap
 * allocation) whenever it crosses a call that was not inlined or is stored in a variable
 * of the module scope, and a typed-array slot holds it unboxed. Stores into the array wrap
 * modulo 2^32 (ToUint32), which is the 32-bit arithmetic we want. The hash is synchronous,
 * so no two calls ever share the registers.
 *
 * Reference: the XXH3 specification and `xxhash.h` 0.8 (what Python's `xxhash.xxh3_128`
 * runs). Tested against libxxhash 0.8.1 and against the `langsmith` SDK's BigInt port. That
 * port differs from the reference on two small-input cases, where this file follows the
 * reference: 1–3-byte inputs whose middle byte is ≥ 0x80 (a sign-extended `<< 24`), and
 * about 1% of 9–16-byte inputs (a carry out of the low 64 bits leaks into the high ones).
 * Neither touches a 36-byte UUID, which is what LangSmith sampling hashes.
 */

// XXH3 §"Default secret" (kSecret), 192 bytes.
const SECRET_HEX =
  'b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f' +
  'cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c' +
  '3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8' +
  'a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364' +
  'eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d316552629d4689e' +
  '2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e'
const SECRET_SIZE = 192
/** `S[o]` = the little-endian u32 of the secret at byte offset `o` (any alignment). */
const S = /* @__PURE__ */ secretWords()

// Built by a function marked pure, so bundles that never hash drop the table with it.
function secretWords(): Uint32Array {
  const secret = new Uint8Array(SECRET_SIZE)
  for (let i = 0; i < SECRET_SIZE; i++) secret[i] = Number.parseInt(SECRET_HEX.slice(2 * i, 2 * i + 2), 16)
  const words = new Uint32Array(SECRET_SIZE - 3)
  for (let o = 0; o < SECRET_SIZE - 3; o++) words[o] = r32(secret, o)
  return words
}

// Primes (xxhash.h), 64-bit ones as high/low halves.
const P32_1 = 0x9e3779b1
const P32_2 = 0x85ebca77
const P32_3 = 0xc2b2ae3d
const P64_1H = 0x9e3779b1
const P64_1L = 0x85ebca87
const P64_2H = 0xc2b2ae3d
const P64_2L = 0x27d4eb4f
const P64_3H = 0x165667b1
const P64_3L = 0x9e3779f9
const P64_4H = 0x85ebca77
const P64_4L = 0xc2b2ae63
const P64_5H = 0x27d4eb2f
const P64_5L = 0x165667c5
const MX1H = 0x16566791
const MX1L = 0x9e3779f9
const MX2H = 0x9fb21c65
const MX2L = 0x1e98df25

const TWO32 = 4294967296
const INV32 = 1 / TWO32

// The registers. H:L is the working 64-bit value, KH:KL a second operand, W3:W2:W1:W0 a
// 128-bit product, AH:AL and BH:BL the two halves of the 17..240-byte accumulator, and
// R3:R2 (high64) R1:R0 (low64) the hash.
const X = /* @__PURE__ */ new Uint32Array(16)
const H = 0
const L = 1
const KH = 2
const KL = 3
const W0 = 4
const W1 = 5
const W2 = 6
const W3 = 7
const AH = 8
const AL = 9
const BH = 10
const BL = 11
const R0 = 12
const R1 = 13
const R2 = 14
const R3 = 15

function r32(p: Uint8Array, o: number): number {
  return (p[o]! | (p[o + 1]! << 8) | (p[o + 2]! << 16) | (p[o + 3]! << 24)) >>> 0
}

/** W3:W2:W1:W0 = (H:L) × (KH:KL), the full 128-bit product (XXH_mult64to128). */
function mul128(): void {
  const ah = X[H]!
  const al = X[L]!
  const bh = X[KH]!
  const bl = X[KL]!
  const llL = Math.imul(al, bl) >>> 0
  const llH = Math.round((al * bl - llL) * INV32)
  const lhL = Math.imul(al, bh) >>> 0
  const lhH = Math.round((al * bh - lhL) * INV32)
  const hlL = Math.imul(ah, bl) >>> 0
  const hlH = Math.round((ah * bl - hlL) * INV32)
  const hhL = Math.imul(ah, bh) >>> 0
  const hhH = Math.round((ah * bh - hhL) * INV32)
  const s1 = llH + lhL + hlL
  const w1 = s1 >>> 0
  const s2 = lhH + hlH + hhL + (s1 - w1) * INV32
  const w2 = s2 >>> 0
  X[W0] = llL
  X[W1] = w1
  X[W2] = w2
  X[W3] = hhH + (s2 - w2) * INV32
}

/** H:L = low64 ^ high64 of (H:L) × (KH:KL) (XXH3_mul128_fold64). */
function mulFold(): void {
  mul128()
  X[H] = X[W1]! ^ X[W3]!
  X[L] = X[W0]! ^ X[W2]!
}

/** H:L = low 64 bits of (H:L) × (kh:kl), for a constant kh:kl. */
function mulK(kh: number, kl: number): void {
  const h = X[H]!
  const l = X[L]!
  const lo = Math.imul(l, kl) >>> 0
  X[H] = Math.round((l * kl - lo) * INV32) + Math.imul(h, kl) + Math.imul(l, kh)
  X[L] = lo
}

/** XXH3_avalanche on H:L: x ^= x >> 37; x *= PRIME_MX1; x ^= x >> 32. */
function avalanche(): void {
  X[L] = X[L]! ^ (X[H]! >>> 5)
  mulK(MX1H, MX1L)
  X[L] = X[L]! ^ X[H]!
}

/** XXH64_avalanche on H:L: x ^= x >> 33; x *= P64_2; x ^= x >> 29; x *= P64_3; x ^= x >> 32. */
function avalanche64(): void {
  X[L] = X[L]! ^ (X[H]! >>> 1)
  mulK(P64_2H, P64_2L)
  const h = X[H]!
  const l = X[L]!
  X[L] = l ^ ((l >>> 29) | (h << 3))
  X[H] = h ^ (h >>> 29)
  mulK(P64_3H, P64_3L)
  X[L] = X[L]! ^ X[H]!
}

/** XXH3_mix16B (seed 0) of `p[o, o+16)` with secret offset `s`, into H:L. */
function mix16(p: Uint8Array, o: number, s: number): void {
  X[L] = r32(p, o) ^ S[s]!
  X[H] = r32(p, o + 4) ^ S[s + 4]!
  X[KL] = r32(p, o + 8) ^ S[s + 8]!
  X[KH] = r32(p, o + 12) ^ S[s + 12]!
  mulFold()
}

/**
 * XXH128_mix32B (seed 0): acc.low += mix16(in1); acc.low ^= in2[0] + in2[8];
 * acc.high += mix16(in2, secret + 16); acc.high ^= in1[0] + in1[8] (all mod 2^64).
 */
function mix32(p: Uint8Array, o1: number, o2: number, s: number): void {
  mix16(p, o1, s)
  let l = X[AL]! + X[L]!
  let h = X[AH]! + X[H]! + (l >= TWO32 ? 1 : 0)
  let sl = r32(p, o2) + r32(p, o2 + 8)
  let sh = r32(p, o2 + 4) + r32(p, o2 + 12) + (sl >= TWO32 ? 1 : 0)
  // `^` takes both operands modulo 2^32: the carries out of bit 31 are already in h, sh.
  X[AL] = l ^ sl
  X[AH] = h ^ sh
  mix16(p, o2, s + 16)
  l = X[BL]! + X[L]!
  h = X[BH]! + X[H]! + (l >= TWO32 ? 1 : 0)
  sl = r32(p, o1) + r32(p, o1 + 8)
  sh = r32(p, o1 + 4) + r32(p, o1 + 12) + (sl >= TWO32 ? 1 : 0)
  X[BL] = l ^ sl
  X[BH] = h ^ sh
}

/** The ending shared by the 17..240-byte paths (seed 0). */
function finish128(len: number): void {
  // low64 = avalanche(acc.low + acc.high)
  let l = X[AL]! + X[BL]!
  X[H] = X[AH]! + X[BH]! + (l >= TWO32 ? 1 : 0)
  X[L] = l
  avalanche()
  X[R1] = X[H]!
  X[R0] = X[L]!
  // high64 = 0 - avalanche(acc.low * P64_1 + acc.high * P64_4 + len * P64_2)
  X[H] = X[AH]!
  X[L] = X[AL]!
  mulK(P64_1H, P64_1L)
  let h = X[H]!
  l = X[L]!
  X[H] = X[BH]!
  X[L] = X[BL]!
  mulK(P64_4H, P64_4L)
  l += X[L]!
  h += X[H]! + (l >= TWO32 ? 1 : 0)
  l >>>= 0
  X[H] = 0
  X[L] = len
  mulK(P64_2H, P64_2L)
  l += X[L]!
  X[H] = h + X[H]! + (l >= TWO32 ? 1 : 0)
  X[L] = l
  avalanche()
  const nl = (~X[L]! + 1) >>> 0
  X[R2] = nl
  X[R3] = ~X[H]! + (nl === 0 ? 1 : 0)
}

function len0(): void {
  X[H] = S[68]! ^ S[76]!
  X[L] = S[64]! ^ S[72]!
  avalanche64()
  X[R1] = X[H]!
  X[R0] = X[L]!
  X[H] = S[84]! ^ S[92]!
  X[L] = S[80]! ^ S[88]!
  avalanche64()
  X[R3] = X[H]!
  X[R2] = X[L]!
}

function len1to3(p: Uint8Array, len: number): void {
  const combinedl = ((p[0]! << 16) | (p[len >> 1]! << 24) | p[len - 1]! | (len << 8)) >>> 0
  // XXH_rotl32(XXH_swap32(combinedl), 13)
  const sw = swap32(combinedl)
  const combinedh = ((sw << 13) | (sw >>> 19)) >>> 0
  X[H] = 0
  X[L] = combinedl ^ S[0]! ^ S[4]!
  avalanche64()
  X[R1] = X[H]!
  X[R0] = X[L]!
  X[H] = 0
  X[L] = combinedh ^ S[8]! ^ S[12]!
  avalanche64()
  X[R3] = X[H]!
  X[R2] = X[L]!
}

function len4to8(p: Uint8Array, len: number): void {
  // keyed = (in[len-4..] << 32 | in[0..4]) ^ (secret[16] ^ secret[24])
  X[H] = r32(p, len - 4) ^ S[20]! ^ S[28]!
  X[L] = r32(p, 0) ^ S[16]! ^ S[24]!
  // × (P64_1 + (len << 2)); len << 2 ≤ 32 cannot carry out of P64_1's low half
  X[KH] = P64_1H
  X[KL] = P64_1L + (len << 2)
  mul128()
  const w0 = X[W0]!
  const w1 = X[W1]!
  // m128.high += m128.low << 1
  const sl = X[W2]! + ((w0 << 1) >>> 0)
  const hh = (X[W3]! + (((w1 << 1) | (w0 >>> 31)) >>> 0) + (sl >= TWO32 ? 1 : 0)) >>> 0
  const hl = sl >>> 0
  // m128.low ^= m128.high >> 3; then low ^= low >> 35; low *= PRIME_MX2; low ^= low >> 28
  const ml = (w0 ^ ((hl >>> 3) | (hh << 29))) >>> 0
  const mh = (w1 ^ (hh >>> 3)) >>> 0
  X[H] = mh
  X[L] = ml ^ (mh >>> 3)
  mulK(MX2H, MX2L)
  const h = X[H]!
  const l = X[L]!
  X[R0] = l ^ ((l >>> 28) | (h << 4))
  X[R1] = h ^ (h >>> 28)
  X[H] = hh
  X[L] = hl
  avalanche()
  X[R3] = X[H]!
  X[R2] = X[L]!
}

function len9to16(p: Uint8Array, len: number): void {
  // (input_lo ^ input_hi ^ bitflipl) × P64_1, bitflipl = secret[32] ^ secret[40]
  X[L] = r32(p, 0) ^ r32(p, len - 8) ^ S[32]! ^ S[40]!
  X[H] = r32(p, 4) ^ r32(p, len - 4) ^ S[36]! ^ S[44]!
  X[KH] = P64_1H
  X[KL] = P64_1L
  mul128()
  const ml = X[W0]!
  // m128.low += (len - 1) << 54, within the low 64 bits (the carry out is dropped)
  let mh = (X[W1]! + ((len - 1) << 22)) >>> 0
  // input_hi ^= bitfliph (secret[48] ^ secret[56]);
  // m128.high += input_hi + mult32to64((u32)input_hi, P32_2 - 1)
  const xl = (r32(p, len - 8) ^ S[48]! ^ S[56]!) >>> 0
  const xh = (r32(p, len - 4) ^ S[52]! ^ S[60]!) >>> 0
  const pl = Math.imul(xl, P32_2 - 1) >>> 0
  const ph = Math.round((xl * (P32_2 - 1) - pl) * INV32)
  let s = X[W2]! + xl
  let hh = X[W3]! + xh + (s >= TWO32 ? 1 : 0)
  s = (s >>> 0) + pl
  hh = (hh + ph + (s >= TWO32 ? 1 : 0)) >>> 0
  const hl = s >>> 0
  // m128.low ^= swap64(m128.high)
  const bl = (ml ^ swap32(hh)) >>> 0
  mh = (mh ^ swap32(hl)) >>> 0
  // h128 = m128.low × P64_2 (128-bit); h128.high += m128.high × P64_2 (64-bit)
  X[H] = mh
  X[L] = bl
  X[KH] = P64_2H
  X[KL] = P64_2L
  mul128()
  const rl = X[W0]!
  const rh = X[W1]!
  const xl2 = X[W2]!
  const xh2 = X[W3]!
  X[H] = hh
  X[L] = hl
  mulK(P64_2H, P64_2L)
  const t = xl2 + X[L]!
  const th = xh2 + X[H]! + (t >= TWO32 ? 1 : 0)
  X[H] = rh
  X[L] = rl
  avalanche()
  X[R1] = X[H]!
  X[R0] = X[L]!
  X[H] = th
  X[L] = t
  avalanche()
  X[R3] = X[H]!
  X[R2] = X[L]!
}

function swap32(x: number): number {
  return ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) >>> 0
}

function startAcc(len: number): void {
  X[H] = 0
  X[L] = len
  mulK(P64_1H, P64_1L)
  X[AH] = X[H]!
  X[AL] = X[L]!
  X[BH] = 0
  X[BL] = 0
}

function len17to128(p: Uint8Array, len: number): void {
  startAcc(len)
  for (let i = (len - 1) >>> 5; i >= 0; i--) mix32(p, 16 * i, len - 16 * (i + 1), 32 * i)
  finish128(len)
}

function len129to240(p: Uint8Array, len: number): void {
  startAcc(len)
  for (let i = 32; i < 160; i += 32) mix32(p, i - 32, i - 16, i - 32)
  X[H] = X[AH]!
  X[L] = X[AL]!
  avalanche()
  X[AH] = X[H]!
  X[AL] = X[L]!
  X[H] = X[BH]!
  X[L] = X[BL]!
  avalanche()
  X[BH] = X[H]!
  X[BL] = X[L]!
  // `i <= len` repeats the last 32 bytes when len % 32 == 0, as the reference does.
  for (let i = 160; i <= len; i += 32) mix32(p, i - 32, i - 16, 3 + i - 160)
  // Last bytes: the two inputs swapped, secret offset 136 - 17 - 16 (seed 0, so -seed = 0).
  mix32(p, len - 16, len - 32, 103)
  finish128(len)
}

// Long inputs: 8 lanes of 64 bits as [high, low] pairs.
const ACC = /* @__PURE__ */ new Uint32Array(16)
const STRIPE = 64
const STRIPES_PER_BLOCK = (SECRET_SIZE - STRIPE) / 8
const BLOCK = STRIPE * STRIPES_PER_BLOCK

/** XXH3_accumulate_512 (scalar): acc[i ^ 1] += data[i]; acc[i] += lo32(key) × hi32(key). */
function accumulate512(p: Uint8Array, o: number, s: number): void {
  for (let i = 0; i < 8; i++) {
    const dl = r32(p, o + 8 * i)
    const dh = r32(p, o + 8 * i + 4)
    const kl = (dl ^ S[s + 8 * i]!) >>> 0
    const kh = (dh ^ S[s + 8 * i + 4]!) >>> 0
    const j = (i ^ 1) << 1
    let l = ACC[j + 1]! + dl
    ACC[j] = ACC[j]! + dh + (l >= TWO32 ? 1 : 0)
    ACC[j + 1] = l
    const ml = Math.imul(kl, kh) >>> 0
    const mh = Math.round((kl * kh - ml) * INV32)
    const k = i << 1
    l = ACC[k + 1]! + ml
    ACC[k] = ACC[k]! + mh + (l >= TWO32 ? 1 : 0)
    ACC[k + 1] = l
  }
}

/** XXH3_scrambleAcc (scalar): acc ^= acc >> 47; acc ^= secret; acc *= P32_1. */
function scramble(): void {
  const s = SECRET_SIZE - STRIPE
  for (let i = 0; i < 8; i++) {
    const k = i << 1
    const h = ACC[k]!
    X[H] = h ^ S[s + 8 * i + 4]!
    X[L] = ACC[k + 1]! ^ (h >>> 15) ^ S[s + 8 * i]!
    mulK(0, P32_1)
    ACC[k] = X[H]!
    ACC[k + 1] = X[L]!
  }
}

/** XXH3_mergeAccs: avalanche(start + Σ fold(acc[2i] ^ secret[16i], acc[2i+1] ^ secret[16i+8])). */
function mergeAccs(s: number, startH: number, startL: number): void {
  let h = startH
  let l = startL
  for (let i = 0; i < 4; i++) {
    const k = i << 2
    X[H] = ACC[k]! ^ S[s + 16 * i + 4]!
    X[L] = ACC[k + 1]! ^ S[s + 16 * i]!
    X[KH] = ACC[k + 2]! ^ S[s + 16 * i + 12]!
    X[KL] = ACC[k + 3]! ^ S[s + 16 * i + 8]!
    mulFold()
    l += X[L]!
    h = (h + X[H]! + (l >= TWO32 ? 1 : 0)) >>> 0
    l >>>= 0
  }
  X[H] = h
  X[L] = l
  avalanche()
}

function hashLong(p: Uint8Array, len: number): void {
  ACC[0] = 0
  ACC[1] = P32_3
  ACC[2] = P64_1H
  ACC[3] = P64_1L
  ACC[4] = P64_2H
  ACC[5] = P64_2L
  ACC[6] = P64_3H
  ACC[7] = P64_3L
  ACC[8] = P64_4H
  ACC[9] = P64_4L
  ACC[10] = 0
  ACC[11] = P32_2
  ACC[12] = P64_5H
  ACC[13] = P64_5L
  ACC[14] = 0
  ACC[15] = P32_1
  const blocks = Math.floor((len - 1) / BLOCK)
  for (let n = 0; n < blocks; n++) {
    for (let s = 0; s < STRIPES_PER_BLOCK; s++) accumulate512(p, n * BLOCK + s * STRIPE, s * 8)
    scramble()
  }
  const stripes = Math.floor((len - 1 - BLOCK * blocks) / STRIPE)
  for (let s = 0; s < stripes; s++) accumulate512(p, blocks * BLOCK + s * STRIPE, s * 8)
  accumulate512(p, len - STRIPE, SECRET_SIZE - STRIPE - 7) // last stripe: XXH_SECRET_LASTACC_START
  // low64 = merge(secret + 11, len * P64_1); high64 = merge(secret + 192 - 64 - 11, ~(len * P64_2))
  X[H] = 0
  X[L] = len
  mulK(P64_1H, P64_1L)
  mergeAccs(11, X[H]!, X[L]!)
  X[R1] = X[H]!
  X[R0] = X[L]!
  X[H] = 0
  X[L] = len
  mulK(P64_2H, P64_2L)
  mergeAccs(SECRET_SIZE - STRIPE - 11, ~X[H]! >>> 0, ~X[L]! >>> 0)
  X[R3] = X[H]!
  X[R2] = X[L]!
}

/** Hashes `p[0, len)` into R3:R2:R1:R0. */
function hashInto(p: Uint8Array, len: number): void {
  if (len <= 16) {
    if (len > 8) len9to16(p, len)
    else if (len >= 4) len4to8(p, len)
    else if (len > 0) len1to3(p, len)
    else len0()
  } else if (len <= 128) len17to128(p, len)
  else if (len <= 240) len129to240(p, len)
  else hashLong(p, len)
}

/**
 * XXH3-128 (seed 0) of `bytes`, as one unsigned 128-bit `bigint` (`high64 << 64 | low64`):
 * the value Python's `xxhash.xxh3_128(b).intdigest()` and the `langsmith` JS SDK's
 * `XXH3_128` return. The arithmetic is 32-bit; one BigInt is built at the end. For a hot
 * path that needs only a remainder, {@link xxh3_128Mod} builds no BigInt at all.
 *
 * @example
 * ```ts
 * xxh3_128(new Uint8Array()).toString(16) // '99aa06d3014798d86001c324468d497f'
 * ```
 */
export function xxh3_128(bytes: Uint8Array): bigint {
  hashInto(bytes, bytes.length)
  return (BigInt(X[R3]!) << 96n) | (BigInt(X[R2]!) << 64n) | (BigInt(X[R1]!) << 32n) | BigInt(X[R0]!)
}

/**
 * XXH3-128 (seed 0) as 32 lowercase hex digits, high half first (Python's `hexdigest()`).
 *
 * @example
 * ```ts
 * xxh3_128Hex(new Uint8Array()) // '99aa06d3014798d86001c324468d497f'
 * ```
 */
export function xxh3_128Hex(bytes: Uint8Array): string {
  hashInto(bytes, bytes.length)
  return hex8(X[R3]!) + hex8(X[R2]!) + hex8(X[R1]!) + hex8(X[R0]!)
}

function hex8(x: number): string {
  return x.toString(16).padStart(8, '0')
}

/**
 * XXH3-128 (seed 0) of `bytes[0, length)` modulo `modulus`, without a BigInt: the 128-bit
 * value is folded 32 bits at a time, exact for any integer `modulus` in [1, 2^21].
 * `length` defaults to the whole array (a reused buffer may be longer than its content).
 * Throws a `RangeError` for a modulus out of range (a programming error, not input).
 *
 * @example
 * ```ts
 * const b = new TextEncoder().encode('0190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6e')
 * xxh3_128Mod(b, 1_000_000) === Number(xxh3_128(b) % 1_000_000n) // true
 * ```
 */
export function xxh3_128Mod(bytes: Uint8Array, modulus: number, length: number = bytes.length): number {
  if (!(modulus >= 1 && modulus <= 2097152 && Math.floor(modulus) === modulus)) {
    throw new RangeError(`tracehop: xxh3_128Mod modulus must be an integer in [1, 2^21], got ${modulus}`)
  }
  hashInto(bytes, length >= 0 && length < bytes.length ? Math.floor(length) : bytes.length)
  let r = X[R3]! % modulus
  r = (r * TWO32 + X[R2]!) % modulus
  r = (r * TWO32 + X[R1]!) % modulus
  return (r * TWO32 + X[R0]!) % modulus
}
