/**
 * Reading a platform's JSON answer without ever throwing: an empty body, an
 * HTML error page from a proxy, or truncated JSON is `undefined`, and the
 * caller maps the HTTP status alone. Every platform needs this for its error
 * bodies.
 *
 * @example
 * const body = Json.parse(yield* response.text) // unknown | undefined
 */

/** The JSON value of `text`, or `undefined` when it is empty or not JSON. */
export const parse = (text: string): unknown => {
  if (text.trim().length === 0) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** `u` as a plain object (not an array, not null), or `undefined`. */
export const record = (u: unknown): Readonly<Record<string, unknown>> | undefined =>
  typeof u === "object" && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : undefined

/** `u` when it is a non-empty string, else `undefined`: a field of an error body. */
export const text = (u: unknown): string | undefined => (typeof u === "string" && u.length > 0 ? u : undefined)

/**
 * `u` as a non-empty string, a number written as one, else `undefined`:
 * platforms send codes and ids as either (`"code": 100`, `"id": "1784…"`).
 */
export const textOrNumber = (u: unknown): string | undefined =>
  typeof u === "string" && u.length > 0 ? u : typeof u === "number" ? String(u) : undefined
