/**
 * Refuses NUL characters (U+0000) anywhere in a request's path, query or
 * JSON body, before any handler runs: PostgreSQL text cannot hold them, so
 * one that reached a query used to answer 500 (`invalid byte sequence for
 * encoding "UTF8": 0x00`). No field of the API has a use for them.
 * Multipart and raw uploads are not read here (their bytes are files).
 */
import { Effect } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
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

/**
 * `httpEffect`, unless the request holds a NUL in its path, query or JSON
 * body: then the refusal (400 `VALIDATION_FAILED`), and the handler never runs.
 */
export const guardNul = <E, R>(
  request: HttpServerRequest.HttpServerRequest,
  httpEffect: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R> => {
  const url = request.url
  if (/%00/i.test(url) || url.includes("\u0000")) {
    return Effect.succeed(refused(url.includes("?") && /%00/i.test(url.slice(url.indexOf("?"))) ? "query" : "path"))
  }
  const method = request.method
  if (method === "GET" || method === "HEAD" || method === "DELETE" || !isJson((request.headers["content-type"] ?? "").toLowerCase())) {
    return httpEffect
  }
  return Effect.flatMap(
    Effect.orElseSucceed(request.text, () => ""),
    (text) => jsonHasNul(text) ? Effect.succeed(refused("body")) : httpEffect
  )
}
