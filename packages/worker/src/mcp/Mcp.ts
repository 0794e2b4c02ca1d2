/**
 * Omnipost as an MCP server, for agents: the tools of `Tools.ts` and the
 * platform rules as resources (`omnipost://rules/<platform>`), so an agent can
 * read how long an X post may be before writing one.
 *
 * - `layerHttp`: Streamable HTTP at `/mcp` on the API server, authenticated
 *   with an API key like every `/v1` route (`McpAuthentication`), each tool
 *   calling the API on the server's own address with that key.
 * - `layerStdio`: over standard input and output (`omnipost mcp`), calling a
 *   running server's API with a configured key.
 */
import { Rules } from "@omnipost/core"
import { Effect, Layer, Redacted } from "effect"
import { McpProtocol, McpServer } from "effect/ai"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { ApiKeys } from "../storage/ApiKeys.js"
import type { Connection } from "../cli/Client.js"
import { organizationKey } from "../api/Middleware.js"
import { McpConnection, OmnipostTools, OmnipostToolsLayer, presentedKey } from "./Tools.js"

/** Where the MCP endpoint is served. */
export const path = "/mcp"

const serverInfo = {
  name: "omnipost",
  version: "0.1.0",
  instructions:
    "Publish and schedule social-media posts through Omnipost. list_accounts gives the account ids posts target; " +
    "read omnipost://rules/<platform> for each platform's limits, then validate_post before create_post."
} as const

const protocols = [McpProtocol.v2025_11_25, McpProtocol.v2025_06_18, McpProtocol.v2025_03_26] as const

/** One resource per built-in platform: its rules (text limits and how text is counted, media, placements), with sources. */
const RulesResources = Layer.mergeAll(
  McpServer.resource({
    uri: "omnipost://rules",
    name: "Platform rules: index",
    description: "The platforms whose rules are offered, each at omnipost://rules/<platform>.",
    mimeType: "application/json",
    content: Effect.succeed(JSON.stringify(Object.keys(Rules.rules).map((platform) => `omnipost://rules/${platform}`)))
  }),
  ...Object.entries(Rules.rules).map(([platform, rules]) =>
    McpServer.resource({
      uri: `omnipost://rules/${platform}`,
      name: `${rules.displayName} rules`,
      description: `What ${rules.displayName} accepts: text limits and how text is counted, media types, sizes and counts, placements; each rule with its source.`,
      mimeType: "application/json",
      content: Effect.succeed(JSON.stringify(rules, null, 2))
    })
  )
)

const registrations = Layer.mergeAll(McpServer.toolkit(OmnipostTools), RulesResources)

/**
 * `/mcp` answers 401 in the API's error shape unless the request carries a
 * valid organization key; the tools then act with that key. A middleware of
 * the MCP routes only (`layerHttp`): no other request passes through it.
 */
export const McpAuthentication = HttpRouter.middleware(Effect.gen(function*() {
  const keys = yield* ApiKeys
  return (httpEffect) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const refused = yield* organizationKey(keys, Redacted.make(presentedKey(request.headers) ?? "")).pipe(
        Effect.as(undefined),
        Effect.catch((error) => Effect.succeed(error))
      )
      if (refused === undefined) return yield* httpEffect
      const status = refused.error.code === "INVALID_API_KEY" ? 401 : 403
      return HttpServerResponse.jsonUnsafe({ error: refused.error }, {
        status,
        headers: status === 401 ? { "www-authenticate": "Bearer" } : {}
      })
    })
})).layer

/** The HTTP endpoint, over the API served by this process (its `HttpServer` address). */
export const layerHttp = Layer.unwrap(Effect.gen(function*() {
  const server = yield* HttpServer.HttpServer
  // The API on this server's own address; an unspecified bind address (0.0.0.0, ::) is reached on loopback.
  const url = HttpServer.formatAddress(server.address).replace(/^http:\/\/(0\.0\.0\.0|\[::\])(?=:)/, "http://127.0.0.1")
  return McpServer.layerHttp({ ...serverInfo, path, protocols, registrations }).pipe(
    Layer.provide(OmnipostToolsLayer),
    Layer.provide(McpConnection.layerLoopback(url)),
    // On the MCP routes only: other requests do not pass through it.
    Layer.provide(McpAuthentication)
  )
}))

/** Over standard input and output, calling the server at `connection`. */
export const layerStdio = (connection: Connection) =>
  McpServer.layerStdio({ ...serverInfo, protocols, registrations }).pipe(
    Layer.provide(OmnipostToolsLayer),
    Layer.provide(McpConnection.layer(connection))
  )
