/**
 * What is wrong with an input, from a schema decoding issue: one problem per
 * field with its path and a message, and for a field the schema does not
 * have (decoded with `onExcessProperty: "error"`), the fields probably meant,
 * read from the schema itself (`scheduled_at` → `scheduledAt`, `linkUrl` →
 * `link`). `validatePost` and the worker's HTTP API both report with it, so a
 * caller gets the same answer from the library and the service.
 *
 * @example
 * import { Schema } from "effect"
 * import { Problems } from "@omnipost/core"
 * const result = Schema.decodeUnknownExit(Schema.Struct({ link: Schema.String }), { onExcessProperty: "error" })({ linkUrl: "x" })
 * // Problems.fromIssue(issue) → [{ path: ["linkUrl"], code: "UNKNOWN_FIELD", suggestions: ["link"], message: "unknown field \"linkUrl\"; did you mean \"link\"?" },
 * //                             { path: ["link"], message: "\"link\" is required" }]
 */
import { SchemaAST, SchemaIssue } from "effect"

export type Path = ReadonlyArray<string | number>

/** One problem of an input. */
export interface Problem {
  readonly path: Path
  readonly message: string
  /** Set for a field the schema does not have. */
  readonly code?: "UNKNOWN_FIELD" | undefined
  /** For an unknown field: the known fields at the same level that look like it, best first. */
  readonly suggestions?: ReadonlyArray<string> | undefined
}

/** At most this many problems are reported; the rest are counted (`fromIssue`'s `omitted`). */
export const maxProblems = 100

// Names longer than this are nobody's typo; comparing them would only cost time.
const maxComparedLength = 64

const normalize = (name: string) => name.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "")

/** Optimal string alignment distance (edits, with adjacent swaps), or `limit + 1` once it must exceed `limit`. */
const distance = (a: string, b: string, limit: number): number => {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let previous2: Array<number> = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, previous2[j - 2]! + 1)
      current.push(value)
      rowMin = Math.min(rowMin, value)
    }
    if (rowMin > limit) return limit + 1
    previous2 = previous
    previous = current
  }
  return previous[b.length]!
}

/**
 * The known fields a caller probably meant by `name`, best first (at most 3):
 * the same name once case and separators are ignored (`scheduled_at` →
 * `scheduledAt`), then a known name it starts with or that starts with it
 * (`linkUrl` → `link`), then names a few edits away (`timzone` → `timezone`).
 */
export const suggestFields = (name: string, known: Iterable<string>): ReadonlyArray<string> => {
  const wanted = normalize(name)
  if (wanted.length === 0 || wanted.length > maxComparedLength) return []
  const scored: Array<readonly [number, number, string]> = []
  let order = 0
  for (const candidate of known) {
    order++
    const other = normalize(candidate)
    if (other.length === 0 || candidate === name) continue
    if (other === wanted) {
      scored.push([0, order, candidate])
      continue
    }
    const [shorter, longer] = other.length < wanted.length ? [other, wanted] : [wanted, other]
    const limit = Math.max(1, Math.floor(Math.max(wanted.length, other.length) / 3))
    const edits = distance(wanted, other, limit)
    if (shorter.length >= 4 && longer.startsWith(shorter)) scored.push([Math.min(edits, 2), order, candidate])
    else if (edits <= limit && edits < Math.min(wanted.length, other.length)) scored.push([edits, order, candidate])
  }
  return scored.sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, 3).map(([, , candidate]) => candidate)
}

const shown = (name: string) => JSON.stringify(name.length > maxComparedLength ? `${name.slice(0, maxComparedLength)}…` : name)

/** `unknown field "linkUrl"; did you mean "link"?` */
export const unknownFieldMessage = (name: string | number, suggestions: ReadonlyArray<string>): string => {
  const what = typeof name === "number" ? `unexpected element at index ${name}` : `unknown field ${shown(name)}`
  if (suggestions.length === 0) return what
  const options = suggestions.map((s) => JSON.stringify(s))
  return `${what}; did you mean ${options.length === 1 ? options[0] : `${options.slice(0, -1).join(", ")} or ${options.at(-1)}`}?`
}

/** The problem for a field that is not in `known`, with its suggestions. */
export const unknownField = (path: Path, known: Iterable<string>): Problem => {
  const name = path.length === 0 ? "" : path[path.length - 1]!
  const suggestions = typeof name === "string" ? suggestFields(name, known) : []
  return {
    path,
    code: "UNKNOWN_FIELD",
    message: unknownFieldMessage(name, suggestions),
    ...(suggestions.length > 0 ? { suggestions } : {})
  }
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const toSegment = (segment: PropertyKey): string | number =>
  typeof segment === "number" ? segment : typeof segment === "symbol" ? String(segment) : segment

/** The names of the fields an object schema declares. */
const fieldsOf = (ast: SchemaAST.AST): ReadonlyArray<string> =>
  SchemaAST.isObjects(ast) ? ast.propertySignatures.flatMap((p) => (typeof p.name === "string" ? [p.name] : [])) : []

// Unknown fields keep their schema until the problems are cut to `maxProblems`: suggestions are computed for those only.
type Raw =
  | { readonly _tag: "problem"; readonly problem: Problem }
  | { readonly _tag: "unknown"; readonly path: Path; readonly known: ReadonlyArray<string> }

const collect = (issue: SchemaIssue.Issue, path: Path, out: Array<Raw>): void => {
  switch (issue._tag) {
    case "Pointer":
      return collect(issue.issue, [...path, ...issue.path.map(toSegment)], out)
    case "Composite":
      for (const inner of issue.issues) collect(inner, path, out)
      return
    case "UnexpectedKey":
      out.push({ _tag: "unknown", path, known: fieldsOf(issue.ast) })
      return
    case "MissingKey": {
      const name = path[path.length - 1]
      out.push({ _tag: "problem", problem: { path, message: name === undefined ? "Missing key" : `${shown(String(name))} is required` } })
      return
    }
    case "InvalidType":
      // A key whose value may be nothing (`Record(String, Never)`: an object with no fields) is a field that does not exist.
      if (issue.ast._tag === "Never" && typeof path[path.length - 1] === "string") {
        out.push({ _tag: "unknown", path, known: [] })
        return
      }
      break
    case "Filter":
      // A check that points at fields (an object's own rule about its keys) reports per field; a plain check keeps its message.
      if (issue.issue._tag === "Pointer" || issue.issue._tag === "Composite") return collect(issue.issue, path, out)
      break
    case "AnyOf":
      if (issue.issues.length > 0) {
        // Each member of the union was tried: report the one the input came closest to, not all of them.
        let best: Array<Raw> | undefined
        for (const member of issue.issues) {
          const candidate: Array<Raw> = []
          collect(member, path, candidate)
          if (best === undefined || candidate.length < best.length) best = candidate
        }
        out.push(...best!)
        return
      }
      break
  }
  for (const formatted of formatter(issue).issues) {
    out.push({
      _tag: "problem",
      problem: { path: [...path, ...(formatted.path ?? []).map((s) => toSegment(typeof s === "object" ? s.key : s))], message: formatted.message }
    })
  }
}

/**
 * The problems of a schema issue (from a decode with `errors: "all"` and
 * `onExcessProperty: "error"`), at most `maxProblems`; `omitted` counts the rest.
 */
export const fromIssue = (issue: SchemaIssue.Issue): { readonly problems: ReadonlyArray<Problem>; readonly omitted: number } => {
  const raw: Array<Raw> = []
  collect(issue, [], raw)
  const kept = raw.slice(0, maxProblems)
  return {
    problems: kept.map((r) => (r._tag === "problem" ? r.problem : unknownField(r.path, r.known))),
    omitted: raw.length - kept.length
  }
}
