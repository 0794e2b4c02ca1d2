/**
 * Every answer carries a request id (`X-Request-Id`): the caller's own when
 * it sends a sensible one (1 to 128 visible ASCII characters), else a new
 * `req_…`. It annotates every log line of the request, and an error body
 * carries it as `error.requestId`, so a user's report finds the server's logs.
 */
import { HttpServerResponse } from "effect/http"
import * as Ids from "../storage/Ids.js"

/** The header that carries a request id, both ways. */
export const requestIdHeader = "x-request-id"
const acceptable = /^[\x21-\x7e]{1,128}$/

/** The request id an incoming request asks for, or a new one. */
export const requestIdOf = (given: string | undefined): string =>
  given !== undefined && acceptable.test(given) ? given : Ids.make("req")

/** An error body `{ error: {…} }` with `requestId` added; other bodies as they are. */
export const withRequestId = (response: HttpServerResponse.HttpServerResponse, id: string): HttpServerResponse.HttpServerResponse => {
  const body = response.body
  if (response.status < 400 || body._tag !== "Uint8Array" || !body.contentType.includes("json") || body.body.byteLength > 65_536) {
    return response
  }
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body.body))
    if (parsed === null || typeof parsed !== "object" || parsed.error === null || typeof parsed.error !== "object") return response
    return HttpServerResponse.jsonUnsafe({ ...parsed, error: { ...parsed.error, requestId: id } }, {
      status: response.status,
      headers: response.headers,
      cookies: response.cookies
    })
  } catch {
    return response
  }
}
