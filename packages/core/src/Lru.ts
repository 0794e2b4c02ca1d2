/**
 * A small bounded cache for synchronous hot paths (decoded settings,
 * opened credentials, fingerprints, counted texts): a `Map` kept in
 * least-recently-used order, the oldest entry dropped once `capacity` is
 * reached. Effect's `Cache` is for effectful lookups with time-to-live; this
 * is for pure answers read many times a second without an effect.
 *
 * @example
 * const fingerprints = new Lru<string, string>(1_024)
 * const md5 = fingerprints.getOrSet(ciphertext, () => hash(ciphertext))
 */
export class Lru<K, V> {
  private readonly entries = new Map<K, V>()

  readonly capacity: number

  constructor(capacity: number) {
    this.capacity = capacity
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`an Lru holds at least 1 entry; got ${capacity}`)
  }

  get size(): number {
    return this.entries.size
  }

  has(key: K): boolean {
    return this.entries.has(key)
  }

  /** The value, now the most recently used; `undefined` when absent. */
  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined
    const value = this.entries.get(key) as V
    this.entries.delete(key)
    this.entries.set(key, value)
    return value
  }

  /** Stores the value as the most recently used, dropping the least recently used entry when full. */
  set(key: K, value: V): this {
    if (this.entries.has(key)) this.entries.delete(key)
    else if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as K)
    this.entries.set(key, value)
    return this
  }

  /** The cached value, or `compute()` stored and returned (an `undefined` answer is cached too). */
  getOrSet(key: K, compute: () => V): V {
    if (this.entries.has(key)) return this.get(key) as V
    const value = compute()
    this.set(key, value)
    return value
  }

  delete(key: K): boolean {
    return this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
  }
}
