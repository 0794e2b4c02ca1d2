/** Row helpers shared by the stores: the driver returns `timestamptz` as `Date`. */

export const iso = (value: Date | string): string => (typeof value === "string" ? new Date(value) : value).toISOString()

export const isoOrUndefined = (value: Date | string | null | undefined): string | undefined =>
  value === null || value === undefined ? undefined : iso(value)

/** Drops `undefined` fields so objects compare and serialize cleanly. */
export const compact = <A extends Record<string, unknown>>(value: A): A => {
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) if (field !== undefined) out[key] = field
  return out as A
}
