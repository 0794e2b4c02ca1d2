/**
 * The `omnipost` command line (`effect/cli`).
 *
 * - `serve`: the API and the scheduler in one process (`--api-only`,
 *   `--worker-only` to scale them apart); `migrate`: apply migrations;
 * - `keys create|list|revoke`: on the database directly (with embedded PGlite,
 *   only while the server is stopped: PGlite belongs to one process), or
 *   through a running server when an API key is given; `--org <id>` for an
 *   organization's keys, `--admin` for admin keys (on the database only);
 * - `orgs create|list|disable|enable`: the same two ways (through the server
 *   with an admin key);
 * - `mcp`: the MCP tools over stdio, for agents;
 * - `accounts add|list`, `groups create|list|rename|delete|add|remove`, `post`,
 *   `status`, `mcp`: through a running server
 *   (`--url`, default `OMNIPOST_URL` or http://127.0.0.1:3000, and `--key`,
 *   default `OMNIPOST_API_KEY`).
 */
import { Console, Data, Effect, Layer, Logger, Runtime } from "effect"
import { Command } from "effect/cli"
import * as Mcp from "../mcp/Mcp.js"
import { connection, key, url } from "./Connection.js"
import { groupsCommand } from "./Groups.js"
import { keysCommand } from "./Keys.js"
import { orgsCommand } from "./Orgs.js"
import { accountsCommand, postCommand, statusCommand } from "./Publishing.js"
import { migrateCommand, serveCommand } from "./Serve.js"

export { PortInUse, serve, serveLayer, type ServeOptions } from "./Serve.js"

// One module per command group: Serve (serve, migrate), Keys, Orgs, Groups,
// Publishing (accounts, post, status); --url, --key and the connection are in Connection.

const mcpCommand = Command.make("mcp", { url, key }, (flags) =>
  Effect.gen(function*() {
    const target = yield* connection(flags)
    // stdout carries the protocol: every log line goes to stderr.
    return yield* Layer.launch(Mcp.layerStdio(target)).pipe(Effect.provideService(Logger.LogToStderr, true))
  })).pipe(Command.withDescription("Serve the MCP tools (for agents) over stdio, acting through a running server with an API key"))

export const omnipost = Command.make("omnipost").pipe(
  Command.withDescription("Self-hosted publishing to social platforms, built in or plugins"),
  Command.withSubcommands([serveCommand, migrateCommand, keysCommand, orgsCommand, accountsCommand, groupsCommand, postCommand, statusCommand, mcpCommand])
)

/** A failure the CLI has printed as its one line (so the runtime prints no stack after it). */
class Reported extends Data.TaggedError("Reported")<{ readonly cause: unknown; readonly message: string }> {
  override readonly [Runtime.errorReported] = false
}

/**
 * Every failure of a command as one line, `omnipost: <CODE>: <message>` (an
 * API error's code, or the error's own code or tag), never a stack: the
 * CLI's errors are read by people. The argument parser's own errors keep
 * their help text.
 */
export const oneLineErrors = <A, R>(effect: Effect.Effect<A, unknown, R>) =>
  effect.pipe(
    Effect.catch((error: unknown) => {
      if (error === null || typeof error !== "object" || (error as { _tag?: unknown })._tag === "ShowHelp") return Effect.fail(error)
      const { code, _tag, message } = error as { code?: unknown; _tag?: unknown; message?: unknown }
      const label = typeof code === "string" ? code : typeof _tag === "string" ? _tag : "ERROR"
      const text = typeof message === "string" && message !== "" ? message.split("\n")[0]! : String(error)
      const line = text.startsWith(`${label}: `) ? `omnipost: ${text}` : `omnipost: ${label}: ${text}`
      return Console.error(line).pipe(Effect.andThen(Effect.fail(new Reported({ cause: error, message: line }))))
    })
  )

/** Runs the CLI with these arguments (tests), failures as one line. */
export const runWith = (args: ReadonlyArray<string>) => oneLineErrors(Command.runWith(omnipost, { version: "0.1.0" })(args))

export const run = oneLineErrors(Command.run(omnipost, { version: "0.1.0" }))
