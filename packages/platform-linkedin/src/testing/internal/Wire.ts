/**
 * LinkedIn's wire as the fake speaks it: the REST error body
 * (`{ status, serviceErrorCode, code, message }`) and request headers, among
 * them the Rest.li protocol header every versioned call must carry.
 */
import type { Answer, FakeRequest } from "@omnipost/platform-kit/testing"

/** The header every `/rest/*` call must carry with `2.0.0`. */
export const reservedHeader = "x-restli-protocol-version"

/** LinkedIn's error answer. */
export const error = (status: number, code: string, message: string, serviceErrorCode?: number): Answer => ({
  status,
  body: { status, ...(serviceErrorCode !== undefined ? { serviceErrorCode } : {}), code, message }
})

/** A request header's (first) value. */
export const header = (request: FakeRequest, name: string) => {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}
