/**
 * Refuses NUL characters (U+0000) anywhere in a request's path, query or
 * JSON body, before any handler runs: PostgreSQL text cannot hold them, so
 * one that reached a query used to answer 500 (`invalid byte sequence for
 * encoding "UTF8": 0x00`). No field of the API has a use for them.
 * Multipart and raw uploads are not read here (their bytes are files).
 */
import { Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { errorJson } from "../Errors.js"

const isJson = (contentType: string) => contentType.includes("json")

/** Whether a JSON text holds a NUL in any string or key (`\u0000` escaped, or raw). */
export const jsonHasNul = (text: string): boolean => {
  if (!text.includes("\\u0000") && !text.includes("\u0000")) return false
  let found = text.includes("\u0000")
  try {
    JSON.parse(text, (key, value) => {
      if (key.includes("\u0000") || (typeof value === "string" && value.includes("\u0000"))) found = true
      return value
    })
  } catch {
    // Not JSON: the endpoint's own decoding says so.
  }
  return found
}

const refused = (where: string) =>
  HttpServerResponse.jsonUnsafe(errorJson("VALIDATION_FAILED", `the request's ${where} holds a NUL character (U+0000), which no field accepts`, {
    issues: [{ path: [where], code: "NUL_CHARACTER", message: "NUL characters (U+0000) are not accepted" }]
  }), { status: 400 })

export const NulGuard = HttpRouter.middleware((httpEffect) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (/%00/i.test(request.url) || request.url.includes("\u0000")) {
      return refused(request.url.includes("?") && /%00/i.test(request.url.slice(request.url.indexOf("?"))) ? "query" : "path")
    }
    const contentType = (request.headers["content-type"] ?? "").toLowerCase()
    const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.method !== "DELETE"
    if (hasBody && isJson(contentType)) {
      const text = yield* request.text.pipe(Effect.orElseSucceed(() => ""))
      if (jsonHasNul(text)) return refused("body")
    }
    return yield* httpEffect
  }), { global: true })
