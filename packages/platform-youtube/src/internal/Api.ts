/**
 * One call to Google's API with one access token, on the kit's `Rest`
 * (bearer token, timeout, body read without throwing, failures mapped by
 * `Errors.fromResponse` and the kit's `Transport`). `call` gives every
 * status back (the resumable protocol answers 308); `ok` fails on 400 and
 * more.
 */
import { Rest } from "@omnipost/platform-kit"
import * as Errors from "../Errors.js"

export type Connection = Rest.Connection
export type Call = Rest.Call
export type Answer = Rest.Answer

export const { call, failure, ok } = Rest.make({ platform: Errors.platform, fromResponse: Errors.fromResponse })
