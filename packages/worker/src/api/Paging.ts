/**
 * The paging parameters every list takes: `limit` with either `cursor` (the
 * previous page's `nextCursor`) or `offset` (then the answer carries `total`,
 * the number of items the filter selects). Both at once is a `400`.
 */
import { Effect, Schema } from "effect"
import * as Errors from "../Errors.js"
import * as Paging from "../storage/Paging.js"

/** The query fields of a paged list; spread into its query schema. */
export const pagingQuery = {
  limit: Schema.optional(
    Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: Paging.maxLimit }))
  ),
  cursor: Schema.optional(Schema.String),
  /** Skip this many items (at most `maxOffset`); the answer then carries `total`. Not with `cursor`. */
  offset: Schema.optional(
    Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: Paging.maxOffset }))
  ).annotate({
    description: `Skip this many items (0 to ${Paging.maxOffset}; deeper, page by cursor); the answer then carries total. Not with cursor.`
  })
}

/** The answer's paging fields; spread into a page schema beside `data`. */
export const pageFields = {
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor: Schema.optional(Schema.String),
  /** With `offset`: how many items the filter selects in all. */
  total: Schema.optional(Schema.Number)
}

/** The storage's page request from a list's query; `cursor` with `offset` is refused. */
export const pageRequest = (
  query: { readonly limit?: number | undefined; readonly cursor?: string | undefined; readonly offset?: number | undefined },
  defaultLimit: number
): Effect.Effect<Paging.PageRequest, Errors.ValidationFailed> => {
  if (query.cursor !== undefined && query.offset !== undefined) {
    const message = "page by cursor or by offset, not both: drop one of the two"
    return Effect.fail(Errors.make(Errors.ValidationFailed, message, {
      issues: [{ path: ["query", "offset"], code: "CURSOR_WITH_OFFSET", message }]
    }))
  }
  return Effect.succeed({ limit: Paging.clampLimit(query.limit, defaultLimit), cursor: query.cursor, offset: query.offset })
}

/** A storage page as the API's `{ data, nextCursor?, total? }`. */
export const toPage = <A, B>(page: Paging.Page<A>, f: (a: A) => B) => ({
  data: page.items.map(f),
  ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
  ...(page.total !== undefined ? { total: page.total } : {})
})

/** Whether a list's query asks for a page (`limit`, `cursor` or `offset`). */
export const asksForPage = (
  query: { readonly limit?: number | undefined; readonly cursor?: string | undefined; readonly offset?: number | undefined }
) => query.limit !== undefined || query.cursor !== undefined || query.offset !== undefined

/**
 * The answer of a list that used to answer whole (accounts, keys, webhooks):
 * without paging parameters still the whole list as an array, so existing
 * clients keep working; with `limit`, `cursor` or `offset`, a page
 * `{ data, nextCursor?, total? }` like every other list.
 */
export const listOrPage = <S extends Schema.Top>(item: S, name: string) =>
  Schema.Union([
    Schema.Array(item).annotate({ description: `Every ${name}, oldest first (no paging parameter given).` }),
    Schema.Struct({ data: Schema.Array(item), ...pageFields }).annotate({
      description: `One page of ${name} (limit, cursor or offset given); total with offset.`
    })
  ])

/** The default page size of lists that answer whole without paging parameters. */
export const defaultLimit = 50
