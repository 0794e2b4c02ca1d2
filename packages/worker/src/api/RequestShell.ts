/**
 * The one global middleware every request passes, outermost first:
 * - its request id (`RequestId`): on the answer's `X-Request-Id`, in an error
 *   body's `error.requestId`, on every log line of the request;
 * - every answer in the error shape (`ErrorShape`), failures and the
 *   framework's own refusals included;
 * - its count among the requests in flight (`InFlight`), however it ends;
 * - the NUL guard (`NulGuard`): a NUL in the path, query or JSON body is
 *   refused before any handler runs.
 *
 * One middleware rather than four: each global middleware is a layer of
 * effects around every request; three of the four cost ~20–30 µs of server
 * CPU per request (`bench/api`, `BENCH_FLOOR`; worker README, "Where a
 * request's time goes").
 */
import { Context, Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { answerFailure, shapeAnswer } from "./ErrorShape.js"
import { RequestsInFlight } from "./InFlight.js"
import { guardNul } from "./NulGuard.js"
import { requestIdHeader, requestIdOf, withRequestId } from "./RequestId.js"

export const RequestShell = HttpRouter.middleware(
  Effect.gen(function*() {
    const requests = yield* RequestsInFlight
    return (httpEffect) =>
      Effect.withFiber((fiber) => {
        const request = Context.getUnsafe(fiber.context, HttpServerRequest.HttpServerRequest)
        const id = requestIdOf(request.headers[requestIdHeader])
        return requests.track(guardNul(request, httpEffect)).pipe(
          Effect.catchCause(answerFailure),
          Effect.map((response) => HttpServerResponse.setHeader(withRequestId(shapeAnswer(response), id), requestIdHeader, id)),
          Effect.annotateLogs("requestId", id)
        )
      })
  }),
  { global: true }
)
