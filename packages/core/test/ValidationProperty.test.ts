/**
 * validatePost never throws, whatever it is given, and always answers with
 * issues from the closed set of codes.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Rules, Validation } from "@omnipost/core"
import fc from "fast-check"
import { allRows, validPostFor } from "./ValidationFixtures.js"

const isValidationIssue = Schema.is(Validation.ValidationIssue)

/** The answer is well formed: a boolean that agrees with the issues, each a decodable issue with a known code. */
const wellFormed = (input: unknown): boolean => {
  const result = Validation.validatePost(input)
  if (result.valid !== (result.issues.length === 0)) return false
  return result.issues.every((issue) => Validation.isIssueCode(issue.code) && isValidationIssue(issue) && issue.message.length > 0)
}

const validPosts = allRows(Rules.rules).map(({ rules, row }) => validPostFor(rules, row))

type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

/** Every path to a value inside a JSON document. */
const pathsOf = (value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> => {
  const here = [prefix]
  if (Array.isArray(value)) return [...here, ...value.flatMap((item, i) => pathsOf(item, [...prefix, i]))]
  if (value !== null && typeof value === "object") return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))]
  return here
}

/** Replaces (or, with `undefined`, deletes) the value at `path`. */
const mutate = (document: Json, path: ReadonlyArray<string | number>, replacement: Json | undefined): unknown => {
  if (path.length === 0) return replacement
  const copy: any = structuredClone(document)
  let cursor = copy
  for (const key of path.slice(0, -1)) cursor = cursor[key]
  const last = path[path.length - 1]!
  if (replacement === undefined) {
    if (Array.isArray(cursor)) cursor.splice(Number(last), 1)
    else delete cursor[last]
  } else cursor[last] = replacement
  return copy
}

const mutatedValidPost = fc
  .record({
    post: fc.constantFrom(...validPosts),
    pick: fc.nat(),
    replacement: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined })
  })
  .map(({ post, pick, replacement }) => {
    const document = JSON.parse(JSON.stringify(post)) as Json
    const paths = pathsOf(document)
    return mutate(document, paths[pick % paths.length]!, replacement as Json | undefined)
  })

describe("validatePost is total", () => {
  it("the valid fixtures are valid (so mutations start from a real post)", () => {
    for (const post of validPosts) assert.deepStrictEqual(Validation.validatePost(post).issues, [])
  })

  it("never throws on arbitrary JSON", () => {
    fc.assert(fc.property(fc.jsonValue(), wellFormed), { numRuns: 500 })
  })

  it("never throws on arbitrary JavaScript values", () => {
    fc.assert(
      fc.property(
        fc.anything({ withBoxedValues: true, withMap: true, withSet: true, withNullPrototype: true, withDate: true, withTypedArray: true, withSparseArray: true, withBigInt: true }),
        wellFormed
      ),
      { numRuns: 300 }
    )
  })

  it("never throws on valid posts with one field replaced or removed", () => {
    fc.assert(fc.property(mutatedValidPost, wellFormed), { numRuns: 1000 })
  })

  it("is pure: it does not change its input, and the same input gives the same answer", () => {
    fc.assert(
      fc.property(mutatedValidPost, (post) => {
        const before = JSON.stringify(post)
        const first = Validation.validatePost(post)
        const second = Validation.validatePost(post)
        return JSON.stringify(post) === before && JSON.stringify(first) === JSON.stringify(second)
      }),
      { numRuns: 300 }
    )
  })

  it("never throws on post-shaped objects with arbitrary fields", () => {
    const destination = fc.record({
      platform: fc.oneof(fc.constantFrom(...Object.keys(Rules.rules)), fc.string()),
      accountId: fc.oneof(fc.string(), fc.integer()),
      placement: fc.option(fc.constantFrom("feed", "story", "reel", "carousel", "video", "short", "photo", "nope")),
      settings: fc.option(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })))
    }, { requiredKeys: ["platform", "accountId"] })
    const media = fc.record({
      kind: fc.constantFrom("image", "video", "gif", "document", "audio"),
      mimeType: fc.constantFrom("image/jpeg", "video/mp4", "image/gif", "application/pdf", ""),
      sizeBytes: fc.oneof(fc.nat(), fc.double()),
      width: fc.option(fc.integer({ min: -10, max: 10_000 }), { nil: undefined }),
      height: fc.option(fc.integer({ min: -10, max: 10_000 }), { nil: undefined }),
      durationSeconds: fc.option(fc.double({ min: -1, max: 100_000, noNaN: true }), { nil: undefined }),
      source: fc.constant({ _tag: "url", url: "https://m.example/x" })
    }, { requiredKeys: ["kind", "mimeType", "sizeBytes", "source"] })
    const post = fc.record({
      content: fc.record({
        text: fc.option(fc.string({ unit: "grapheme", maxLength: 400 }), { nil: undefined }),
        media: fc.option(fc.array(media, { maxLength: 6 }), { nil: undefined }),
        thread: fc.option(fc.array(fc.record({ text: fc.string() }), { maxLength: 3 }), { nil: undefined })
      }),
      destinations: fc.array(destination, { maxLength: 5 })
    })
    fc.assert(fc.property(post, wellFormed), { numRuns: 500 })
  })
})
