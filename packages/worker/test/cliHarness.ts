/** The CLI run in this process, for tests. */
import { NodeServices } from "@effect/platform-node"
import { ConfigProvider, Console, Effect } from "effect"
import { Command } from "effect/cli"
import { omnipost } from "../src/cli/Main.js"

/** Runs the CLI with `args` and these variables only; what it printed on stdout (it fails with the command's error). */
export const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const captured = { ...globalThis.console, log: (...parts: ReadonlyArray<unknown>) => void out.push(parts.join(" ")), error: () => {} }
    yield* Command.runWith(omnipost, { version: "test" })(args).pipe(
      Effect.provide(NodeServices.layer),
      Effect.provideService(Console.Console, captured as Console.Console),
      Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))
    )
    return out.join("\n")
  })
