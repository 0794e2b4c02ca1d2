/**
 * What the commands that talk to a running server share: the `--url` and
 * `--key` flags (defaults `OMNIPOST_URL`, `OMNIPOST_API_KEY`), the connection
 * they resolve to, and printing an answer as JSON.
 */
import { Config, Console, Effect, Option } from "effect"
import { Flag } from "effect/cli"
import type { Connection } from "./Client.js"

export const url = Flag.String("url").pipe(
  Flag.withDescription("The server (default: OMNIPOST_URL, else http://127.0.0.1:3000)"),
  Flag.optional
)
export const key = Flag.String("key").pipe(
  Flag.withDescription("An API key (default: OMNIPOST_API_KEY)"),
  Flag.optional
)

export const connection = (options: { readonly url: Option.Option<string>; readonly key: Option.Option<string> }) =>
  Effect.gen(function*() {
    const envUrl = yield* Config.option(Config.String("OMNIPOST_URL"))
    const envKey = Option.filter(yield* Config.option(Config.String("OMNIPOST_API_KEY")), (value) => value !== "")
    const resolvedKey = Option.getOrUndefined(Option.orElse(options.key, () => envKey))
    if (resolvedKey === undefined) {
      return yield* Effect.fail(new Error("an API key is needed: pass --key or set OMNIPOST_API_KEY"))
    }
    const base = Option.getOrElse(Option.orElse(options.url, () => envUrl), () => "http://127.0.0.1:3000")
    return { url: base.replace(/\/+$/, ""), key: resolvedKey } satisfies Connection
  })

export const print = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

/** Whether a key is at hand (`--key` or `OMNIPOST_API_KEY`): commands that can also work on the database directly go through the server then. */
export const hasKey = (flag: Option.Option<string>) =>
  Effect.map(
    Config.option(Config.String("OMNIPOST_API_KEY")),
    (env) => Option.isSome(flag) || Option.isSome(Option.filter(env, (value) => value !== ""))
  )

/** An organization's admin path. */
export const orgPath = (id: string) => `/v1/admin/organizations/${encodeURIComponent(id)}`
