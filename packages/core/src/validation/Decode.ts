/** Decoding for validation: every error collected, unknown keys refused with the field probably meant; never throws. */
import { Result, Schema } from "effect"
import * as Problems from "../Problems.js"
import type { IssuePath } from "./Issues.js"

export interface Problem {
  readonly path: IssuePath
  readonly message: string
}

const parseOptions = { errors: "all", onExcessProperty: "error" } as const

// Building a decoder costs far more than running it: keep one per schema.
const decoders = new WeakMap<object, (input: unknown) => Result.Result<unknown, Schema.SchemaError>>()
const decoderFor = (schema: Schema.Codec<unknown, any>) => {
  let decoder = decoders.get(schema)
  if (decoder === undefined) {
    decoder = Schema.decodeUnknownResult(schema, parseOptions)
    decoders.set(schema, decoder)
  }
  return decoder
}

/** Decodes with every error collected and unknown keys rejected (with the fields probably meant); never throws. */
export const decode = <A>(schema: Schema.Codec<A, any>, input: unknown): Result.Result<A, ReadonlyArray<Problem>> => {
  const result = decoderFor(schema)(input) as Result.Result<A, Schema.SchemaError>
  if (Result.isSuccess(result)) return Result.succeed(result.success)
  const { omitted, problems } = Problems.fromIssue(result.failure.issue)
  return Result.fail(omitted === 0 ? problems : [...problems, { path: [], message: `and ${omitted} more problems` }])
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

export const describeType = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : typeof value
