/**
 * A tiny fake of the Mastodon API on 127.0.0.1 (an ephemeral port), for
 * driving the publisher over real HTTP: bearer tokens, `POST
 * /api/v1/statuses` with the 500-character limit and Mastodon's error bodies,
 * `Idempotency-Key`, replies, delete, verify_credentials, `X-RateLimit-*`
 * headers, and faults injected for the next calls.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Context, Effect, Layer } from "effect"

export interface FakeStatus {
  readonly id: string
  readonly accountId: string
  readonly text: string
  readonly visibility: string
  readonly spoilerText: string
  readonly sensitive: boolean
  readonly language: string | null
  readonly inReplyToId: string | null
  readonly idempotencyKey: string | undefined
}

export type Fault =
  /** No fault for this call: lets a fault meet a later call (a later part of a thread). */
  | { readonly _tag: "None" }
  | { readonly _tag: "RateLimited"; readonly resetInSeconds: number }
  | { readonly _tag: "ServerError"; readonly status: number }
  /** Reads the request, then closes the socket without answering; with `apply` the status is created first. */
  | { readonly _tag: "DropConnection"; readonly apply: boolean }

const accounts = new Map([
  ["token-alice", { id: "109", username: "alice", acct: "alice", display_name: "Alice", avatar: "https://files.example/alice.png" }],
  ["token-bob", { id: "110", username: "bob", acct: "bob", display_name: "Bob", avatar: "https://files.example/bob.png" }]
])
const revoked = new Set(["token-revoked"])

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })
/** Mastodon's StatusLengthValidator: URLs 23, graphemes otherwise (remote mentions are not needed here). */
const length = (text: string) => [...segmenter.segment(text.replace(/https?:\/\/\S+/g, "x".repeat(23)))].length

export class FakeMastodonServer {
  readonly statuses: Array<FakeStatus> = []
  readonly requests: Array<{ readonly method: string; readonly path: string }> = []
  private faults: Array<Fault> = []
  private nextId = 1000
  private readonly idempotent = new Map<string, FakeStatus>()

  private constructor(private readonly server: ReturnType<typeof createServer>, readonly url: string) {}

  static async start(): Promise<FakeMastodonServer> {
    let fake: FakeMastodonServer | undefined
    const server = createServer((request, response) => void fake!.handle(request, response))
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    fake = new FakeMastodonServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    return fake
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  /** Faults for the next status creations, in order. */
  inject(...faults: ReadonlyArray<Fault>) {
    this.faults.push(...faults)
  }

  credentials(token = "token-alice") {
    return { instanceUrl: this.url, accessToken: token }
  }

  private async handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Array<Buffer> = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const path = new URL(request.url ?? "/", this.url).pathname
    this.requests.push({ method: request.method ?? "", path })
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "x-ratelimit-limit": "300",
        "x-ratelimit-remaining": "299",
        "x-ratelimit-reset": new Date(Date.now() + 3 * 3600_000).toISOString(),
        ...headers
      })
      response.end(JSON.stringify(body))
    }

    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1]
    if (token !== undefined && revoked.has(token)) return send(401, { error: "The access token was revoked" })
    const account = token === undefined ? undefined : accounts.get(token)
    if (account === undefined) return send(401, { error: "The access token is invalid" })

    if (request.method === "GET" && path === "/api/v1/accounts/verify_credentials") return send(200, account)

    const deleting = /^\/api\/v1\/statuses\/([^/]+)$/.exec(path)
    if (request.method === "DELETE" && deleting !== null) {
      const index = this.statuses.findIndex((s) => s.id === deleting[1] && s.accountId === account.id)
      if (index < 0) return send(404, { error: "Record not found" })
      const [removed] = this.statuses.splice(index, 1)
      return send(200, { id: removed!.id, text: removed!.text })
    }

    if (request.method === "POST" && path === "/api/v1/statuses") {
      const fault = this.faults.shift()
      if (fault?._tag === "RateLimited") {
        return send(429, { error: "Too many requests" }, {
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": new Date(Date.now() + fault.resetInSeconds * 1000).toISOString()
        })
      }
      if (fault?._tag === "ServerError") return send(fault.status, { error: "Something went wrong on our end" })
      if (fault?._tag === "DropConnection" && !fault.apply) return request.socket.destroy()
      let body: Record<string, unknown>
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"))
      } catch {
        return send(400, { error: "Invalid JSON" })
      }
      const key = request.headers["idempotency-key"] as string | undefined
      const answer = (status: FakeStatus) =>
        send(200, {
          id: status.id,
          uri: `${this.url}/users/${account.username}/statuses/${status.id}`,
          url: `${this.url}/@${account.username}/${status.id}`,
          created_at: "2026-11-24T12:00:00.000Z",
          in_reply_to_id: status.inReplyToId,
          visibility: status.visibility
        })
      const repeat = key === undefined ? undefined : this.idempotent.get(`${token}:${key}`)
      if (repeat !== undefined) return answer(repeat)

      const text = typeof body.status === "string" ? body.status : ""
      const spoilerText = typeof body.spoiler_text === "string" ? body.spoiler_text : ""
      if (text.trim() === "") return send(422, { error: "Validation failed: Text can't be blank" })
      if (length(text) + length(spoilerText) > 500) {
        return send(422, { error: "Validation failed: Text character limit of 500 exceeded" })
      }
      const visibility = body.visibility ?? "public"
      if (typeof visibility !== "string" || !["public", "unlisted", "private", "direct"].includes(visibility)) {
        return send(422, { error: "Validation failed: Visibility is not included in the list" })
      }
      const inReplyToId = typeof body.in_reply_to_id === "string" ? body.in_reply_to_id : null
      if (inReplyToId !== null && !this.statuses.some((s) => s.id === inReplyToId)) {
        return send(404, { error: "Record not found" })
      }
      const status: FakeStatus = {
        id: String(this.nextId++),
        accountId: account.id,
        text,
        visibility,
        spoilerText,
        sensitive: body.sensitive === true,
        language: typeof body.language === "string" ? body.language : null,
        inReplyToId,
        idempotencyKey: key
      }
      this.statuses.push(status)
      if (key !== undefined) this.idempotent.set(`${token}:${key}`, status)
      if (fault?._tag === "DropConnection") return request.socket.destroy()
      return answer(status)
    }
    return send(404, { error: "Not found" })
  }
}

/** The fake as a scoped service for `layer(...)` suites. */
export class FakeMastodon extends Context.Service<FakeMastodon, FakeMastodonServer>()("test/FakeMastodon") {
  static readonly layer = Layer.effect(
    FakeMastodon,
    Effect.acquireRelease(Effect.promise(() => FakeMastodonServer.start()), (fake) => Effect.promise(() => fake.close()))
  )
}
