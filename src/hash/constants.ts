/**
 * The SHA-2 constants, derived as FIPS 180-4 defines them instead of typed out: the leading
 * fractional bits of the square roots (initial values) and cube roots (round constants) of the
 * first primes. Deriving them leaves no table to mistype.
 */

/** The first `count` primes. */
function primes(count: number): bigint[] {
  const found: bigint[] = [];
  for (let n = 2n; found.length < count; n++) {
    if (found.every((p) => p * p > n || n % p !== 0n)) found.push(n);
  }
  return found;
}

/** floor(n ** (1 / degree)) for a positive bigint, by Newton's method. */
function integerRoot(n: bigint, degree: bigint): bigint {
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / Number(degree)) + 1);
  for (;;) {
    const next = ((degree - 1n) * x + n / x ** (degree - 1n)) / degree;
    if (next >= x) return x;
    x = next;
  }
}

/** The first `bits` fractional bits of the `degree`-th root of each of the first primes. */
export function rootFractions(count: number, degree: bigint, bits: bigint): bigint[] {
  const mask = (1n << bits) - 1n;
  return primes(count).map((p) => integerRoot(p << (bits * degree), degree) & mask);
}

/** Splits 64-bit values into an array of signed 32-bit halves: high, low, high, low, … */
export function toHalves(values: bigint[]): Int32Array {
  return Int32Array.from(
    values.flatMap((v) => [Number(BigInt.asIntN(32, v >> 32n)), Number(BigInt.asIntN(32, v))]),
  );
}

export function toInt32(values: bigint[]): Int32Array {
  return Int32Array.from(values, (v) => Number(BigInt.asIntN(32, v)));
}
