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
