/**
 * How a list is paged: by cursor (`nextCursor`, exact under concurrent
 * inserts) or by `offset` with a `total` (what PostEverywhere and Ampost
 * offer). Offset pages count what the filter selects, with the same
 * conditions as the page, so the count uses the list's index; it is bounded
 * (`maxOffset`) so a deep page never scans a whole table.
 */

/** The deepest offset a list accepts (deeper: page by cursor). */
export const maxOffset = 10_000

/** The largest page. */
export const maxLimit = 100

export interface PageRequest {
  readonly limit: number
  readonly cursor?: string | undefined
  readonly offset?: number | undefined
}

/** One page: `nextCursor` when more follow (cursor paging and offset paging alike), `total` with offset paging. */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly nextCursor?: string | undefined
  readonly total?: number | undefined
}

/** The page size within 1..maxLimit. */
export const clampLimit = (limit: number | undefined, fallback: number) =>
  Math.min(Math.max(Math.trunc(limit ?? fallback), 1), maxLimit)
