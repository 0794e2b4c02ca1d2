import { assert, describe, it } from "@effect/vitest"
import { Exit, Schema, SchemaIssue } from "effect"
import * as fc from "fast-check"
import { Media, Problems } from "@omnipost/core"

const problemsOf = (schema: Schema.Top, input: unknown) => {
  const exit = Schema.decodeUnknownExit(schema as Schema.Codec<unknown>, { errors: "all", onExcessProperty: "error" })(input)
  if (Exit.isSuccess(exit)) return []
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")!.error as unknown as { issue: SchemaIssue.Issue }
  return Problems.fromIssue(error.issue).problems
}

describe("Problems.suggestFields", () => {
  const post = ["content", "destinations", "platformOverrides", "status", "scheduledAt", "timezone", "schedule"]
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>, ReadonlyArray<string>]> = [
    ["scheduled_at", post, ["scheduledAt", "schedule"]],
    ["scheduledFor", post, ["schedule", "scheduledAt"]],
    ["SCHEDULE", post, ["schedule", "scheduledAt"]],
    ["timeZone", post, ["timezone"]],
    ["time_zone", post, ["timezone"]],
    ["timzone", post, ["timezone"]],
    ["destination", post, ["destinations"]],
    ["contnet", post, ["content"]],
    ["linkUrl", ["text", "media", "link", "thread"], ["link"]],
    ["link_url", ["text", "media", "link", "thread"], ["link"]],
    ["alt", ["mediaId", "altText"], []],
    ["alt_text", ["mediaId", "altText"], ["altText"]],
    ["foo", post, []],
    ["to", ["id", "at"], []],
    ["", post, []]
  ]
  it.each(cases)("%s among %j → %j", (name, known, expected) => {
    assert.deepStrictEqual(Problems.suggestFields(name, known), expected)
  })

  it("ignores names too long to be a typo, and odd Unicode never throws", () => {
    assert.deepStrictEqual(Problems.suggestFields("schedule".repeat(1000), post), [])
    // Lone surrogates, combining marks, joiners, control characters.
    const odd = fc.oneof(
      fc.string({ unit: "grapheme-composite" }),
      fc.string({ unit: "binary-ascii" }),
      fc.array(fc.constantFrom("\uD800", "\uDFFF", "\u0000", "e\u0301", "\u200D", "👩‍👩‍👧", "S\u0327", "İ")).map((parts) => parts.join(""))
    )
    fc.assert(fc.property(odd, (name) => {
      const suggestions = Problems.suggestFields(name, post)
      return suggestions.length <= 3 && suggestions.every((s) => post.includes(s))
    }))
  })
})

describe("Problems.fromIssue", () => {
  const MediaRef = Schema.Union([Schema.Struct({ mediaId: Schema.String, altText: Schema.optional(Schema.String) }), Media.Media])
  const Body = Schema.Struct({
    content: Schema.Struct({ text: Schema.optional(Schema.String), link: Schema.optional(Schema.String), media: Schema.optional(Schema.Array(MediaRef)) }),
    schedule: Schema.optional(Schema.String),
    scheduledAt: Schema.optional(Schema.String)
  })

  it("names every unknown field with its path and the field probably meant", () => {
    const problems = problemsOf(Body, { content: { text: "hi", linkUrl: "https://x" }, scheduled_at: "2026-12-15T14:00:00Z", extra: 1 })
    assert.deepStrictEqual(problems, [
      { path: ["scheduled_at"], code: "UNKNOWN_FIELD", suggestions: ["scheduledAt", "schedule"], message: "unknown field \"scheduled_at\"; did you mean \"scheduledAt\" or \"schedule\"?" },
      { path: ["extra"], code: "UNKNOWN_FIELD", message: "unknown field \"extra\"" },
      { path: ["content", "linkUrl"], code: "UNKNOWN_FIELD", suggestions: ["link"], message: "unknown field \"linkUrl\"; did you mean \"link\"?" }
    ])
  })

  it("inside a union, reports against the member the input came closest to", () => {
    const byId = problemsOf(Body, { content: { media: [{ mediaId: "med_1", alt_text: "a cat" }] } })
    assert.deepStrictEqual(byId.map((p) => [p.path, p.suggestions]), [[["content", "media", 0, "alt_text"], ["altText"]]])
    const full = problemsOf(Body, {
      content: { media: [{ kind: "image", mimeType: "image/png", sizeBytes: 1, source: { _tag: "url", url: "https://x", uri: "y" }, widht: 3 }] }
    })
    assert.deepStrictEqual(full.map((p) => [p.path, p.suggestions]), [
      [["content", "media", 0, "widht"], ["width"]],
      [["content", "media", 0, "source", "uri"], ["url"]]
    ])
  })

  it("reports other problems with their paths, and says which key is missing", () => {
    const problems = problemsOf(Body, { content: { text: 5 } })
    assert.deepStrictEqual(problems.map((p) => p.path), [["content", "text"]])
    assert.isUndefined(problems[0]!.code)
    assert.deepStrictEqual(problemsOf(Body, {}), [{ path: ["content"], message: "\"content\" is required" }])
  })

  it("keeps at most maxProblems problems and counts the rest", () => {
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`field${i}`, i]))
    const exit = Schema.decodeUnknownExit(Body, { errors: "all", onExcessProperty: "error" })({ content: {}, ...many })
    assert.isTrue(Exit.isFailure(exit))
    const error = Exit.isFailure(exit) ? (exit.cause.reasons[0] as any).error : undefined
    const { omitted, problems } = Problems.fromIssue(error.issue)
    assert.strictEqual(problems.length, Problems.maxProblems)
    assert.strictEqual(omitted, 5000 - Problems.maxProblems)
  })
})

describe("Problems.fromIssue: checks", () => {
  it("a check that points at keys reports them per key; a plain check keeps its message", () => {
    const Empty = Schema.Struct({})
    const NoKeys = Empty.check(Schema.makeFilter((value: object) => {
      const keys = Object.keys(value)
      return keys.length === 0 || keys.map((key) => ({ path: [key], issue: new SchemaIssue.UnexpectedKey(Empty.ast) }))
    }))
    assert.deepStrictEqual(problemsOf(NoKeys, { page: 2 }), [{ path: ["page"], code: "UNKNOWN_FIELD", message: "unknown field \"page\"" }])
    const NoFields = Schema.Record(Schema.String, Schema.Never)
    assert.deepStrictEqual(problemsOf(NoFields, { page: 2 }), [{ path: ["page"], code: "UNKNOWN_FIELD", message: "unknown field \"page\"" }])
    const Short = Schema.Struct({ name: Schema.String.check(Schema.isMaxLength(3, { message: "at most 3" })) })
    assert.deepStrictEqual(problemsOf(Short, { name: "long" }), [{ path: ["name"], message: "at most 3" }])
  })
})
