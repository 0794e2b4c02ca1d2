/**
 * `/llms.txt`: the API described for agents and LLMs in Markdown
 * (llmstxt.org), generated from the same declarations as `/openapi.json`:
 * every operation with its method, path, summary, parameters, body and the
 * error codes it can answer, so the two cannot drift apart.
 */
import { Effect } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { OpenApi } from "effect/http-api"
import { OmnipostApi } from "./Api.js"

type Operation = {
  readonly summary?: string
  readonly description?: string
  readonly tags?: ReadonlyArray<string>
  readonly parameters?: ReadonlyArray<{ readonly name: string; readonly in: string; readonly required?: boolean; readonly description?: string }>
  readonly requestBody?: { readonly content?: Record<string, { readonly schema?: { readonly $ref?: string; readonly properties?: Record<string, unknown> } }> }
  readonly responses?: Record<string, { readonly description?: string }>
}

const methods = ["get", "post", "put", "patch", "delete"] as const

/** What a body holds: its schema's name, or its top-level fields. */
const bodyOf = (operation: Operation): string | undefined => {
  const content = operation.requestBody?.content
  if (content === undefined) return undefined
  return Object.entries(content).map(([type, { schema }]) => {
    const fields = schema?.properties === undefined ? "" : ` with ${Object.keys(schema.properties).map((name) => `\`${name}\``).join(", ")}`
    const named = schema?.$ref === undefined ? "" : ` (${schema.$ref.split("/").pop()})`
    return `${type}${named}${fields}`
  }).join("; or ")
}

/** The Markdown text, built once from the OpenAPI document. */
export const render = (): string => {
  const spec = OpenApi.fromApi(OmnipostApi) as unknown as {
    readonly info: { readonly title: string; readonly version: string }
    readonly paths: Record<string, Partial<Record<(typeof methods)[number], Operation>>>
  }
  const lines = [
    "# Omnipost API",
    "",
    "> Self-hosted API that publishes and schedules social-media posts to X, Bluesky, Instagram, Facebook, Threads, LinkedIn, YouTube and TikTok: one post, many destinations, each validated against its platform's rules before anything is sent and tracked on its own.",
    "",
    "- Authentication: every `/v1` request carries an organization's API key, `Authorization: Bearer <key>` or `x-api-key: <key>`.",
    "- Errors: `{ \"error\": { \"code\", \"message\", \"details\" } }` with the status the code implies; unknown fields in a body or query are refused (`UNKNOWN_FIELD`), never dropped.",
    "- Bodies are JSON; times are ISO 8601 with an offset. Create a post with `POST /v1/posts`, check one first with `POST /v1/posts/validate`.",
    "- Agents: the same operations as MCP tools at `/mcp` (Streamable HTTP, the same key), with each platform's rules as resources `omnipost://rules/<platform>`.",
    "- The full schemas: [/openapi.json](/openapi.json); interactive docs: [/docs](/docs).",
    ""
  ]
  const byTag = new Map<string, Array<string>>()
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of methods) {
      const operation = item[method]
      if (operation === undefined) continue
      const tag = operation.tags?.[0] ?? "other"
      const entry = [`- \`${method.toUpperCase()} ${path}\`: ${operation.summary ?? operation.description ?? ""}`.trimEnd()]
      const query = (operation.parameters ?? []).filter((parameter) => parameter.in === "query")
      if (query.length > 0) {
        entry.push(`  - query: ${query.map((parameter) => `\`${parameter.name}\`${parameter.required === true ? " (required)" : ""}`).join(", ")}`)
      }
      const body = bodyOf(operation)
      if (body !== undefined) entry.push(`  - body: ${body}`)
      const answers = Object.entries(operation.responses ?? {}).map(([status, response]) =>
        response.description !== undefined && response.description.startsWith(`${status} `) ? response.description : status
      )
      if (answers.length > 0) entry.push(`  - answers: ${answers.join(", ")}`)
      byTag.set(tag, [...(byTag.get(tag) ?? []), ...entry])
    }
  }
  for (const [tag, entries] of byTag) lines.push(`## ${tag}`, "", ...entries, "")
  return lines.join("\n")
}

let cached: string | undefined

/** `GET /llms.txt`, no key needed (it describes the API, as `/openapi.json` does). */
export const LlmsTxtRoute = HttpRouter.add(
  "GET",
  "/llms.txt",
  Effect.sync(() => {
    const text = cached ??= render()
    return HttpServerResponse.text(text, { contentType: "text/markdown; charset=utf-8" })
  })
)
