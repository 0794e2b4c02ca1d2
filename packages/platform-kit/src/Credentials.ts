/**
 * Stored credentials, read back the same way by every publisher: decoded
 * with the platform's schema, and a malformed record is the account's
 * problem (`AuthFailed` `invalid`: reconnect it), never a crash.
 *
 * @example
 * const decodeCredentials = Credentials.decode(Auth.LinkedinCredentials, { platform: "linkedin", label: "LinkedIn" })
 * const credentials = yield* decodeCredentials(request.credentials)
 */
import { PublishError } from "@omnipost/core"
import { Effect, Schema } from "effect"

export const decode = <A>(schema: Schema.Decoder<A>, options: { readonly platform: string; readonly label: string }) => {
  const decodeUnknown = Schema.decodeUnknownEffect(schema)
  return (credentials: unknown): Effect.Effect<A, PublishError.AuthFailed> =>
    decodeUnknown(credentials).pipe(
      Effect.mapError((issue) =>
        new PublishError.AuthFailed({
          platform: options.platform,
          reason: "invalid",
          message: `The stored ${options.label} credentials are malformed: ${issue.message}`
        })
      )
    )
}
