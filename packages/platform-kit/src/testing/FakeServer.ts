/**
 * The base every platform fake is built on: an HTTP server on 127.0.0.1 and
 * an ephemeral port, the routes the fake registers, a request log, and ONE
 * fault vocabulary with one set of defaults, injectable per operation and per
 * count:
 *
 * | fault | what the client sees | applied by the platform? |
 * |---|---|---|
 * | `dropBeforeApply()` | the request is read whole, then the connection is destroyed | no |
 * | `dropAfterApply()` | the request is read and applied, then the connection is destroyed | yes |
 * | `cutBody(afterBytes)` | the connection is destroyed once that many body bytes arrived (a half-finished upload) | no |
 * | `status(503, { headers, body })` | an error answer (the fake's own error body when none is given) | no |
 * | `slow({ until })` or `slow({ delayMs })` | the answer is held until the signal (or the delay) | yes, at once (`beforeApply: true` holds it unapplied) |
 * | `rateLimitWindow({ limit, windowMs, remaining })` | `limit` requests per window (`remaining` of them left in the first one), then 429 with the fake's rate-limit headers until the window resets | only the ones let through |
 *
 * Faults apply to the next `times` requests of an operation (default 1) after
 * letting `after` through (default 0); a rate-limit window stays until
 * `clearFaults`. Handlers are plain async functions; the fake is usable from
 * Promise code (`FakeServer.start`, `close`) and as an Effect scoped resource
 * (`FakeServer.make`).
 *
 * @example
 * const server = await FakeServer.start({ errorAnswer: (status) => ({ status, body: { error: "InternalServerError" } }) })
 * server.route("POST", "/xrpc/:nsid", async (request) => ({ status: 200, body: await apply(request) }), {
 *   operation: (request) => request.params.nsid!
 * })
 * server.inject("com.atproto.repo.createRecord", Faults.dropAfterApply())
 */
import { Effect, type Scope } from "effect"
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { PassThrough, Readable } from "node:stream"
import { type Fault, standardRateLimitHeaders, type WindowState } from "./Faults.js"
import { matchPath } from "./internal/paths.js"

/** A request as a route handler sees it. */
export interface FakeRequest {
  readonly method: string
  readonly url: URL
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
  /** The route pattern's `:name` segments. */
  readonly params: Readonly<Record<string, string>>
  readonly operation: string
  /** The body as a stream, to read a large upload piece by piece (what is left unread is drained after the handler). */
  readonly stream: Readable
  /** The whole body (read once; refused past the server's `maxBodyBytes`). */
  readonly body: () => Promise<Uint8Array>
  readonly text: () => Promise<string>
  /** The body as JSON; `undefined` when empty. Throws on invalid JSON. */
  readonly json: () => Promise<unknown>
  /**
   * Destroys the connection now, without an answer (the request is logged
   * `dropped`): a handler cuts an upload part way through its body, after
   * reading as much of it as it wants. What the handler returns afterwards is
   * not sent.
   */
  readonly dropConnection: () => void
}

/** An answer: JSON for objects, text for strings, bytes, or a stream (sent chunked). */
export interface Answer {
  readonly status: number
  readonly headers?: Readonly<Record<string, string | ReadonlyArray<string>>> | undefined
  readonly body?: unknown
  readonly stream?: AsyncIterable<Uint8Array> | undefined
}

export type Handler = (request: FakeRequest) => Answer | Promise<Answer>

/** One request, as logged (updated when it is answered). */
export interface LoggedRequest {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly operation: string | undefined
  readonly headers: IncomingHttpHeaders
  /** When it arrived (the fake's clock). */
  readonly at: number
  /** The answered status; 0 while pending and when the connection was dropped. */
  status: number
  outcome: "pending" | "answered" | "dropped"
  /** Whether the handler ran to its end (the platform applied the request). */
  applied: boolean
  /** The fault it met, if any. */
  fault?: Fault["_tag"] | undefined
  /** Body bytes received. */
  bodyBytes: number
  /** The answer's JSON body, for assertions (bytes, text and streams are not kept). */
  answerJson?: unknown
  /** Arrival order across every fake of the process (a fake made of several servers merges its logs by it). */
  readonly seq: number
}

let arrivals = 0

export interface FakeServerOptions {
  /** The fake's clock (epoch ms): log times and rate-limit windows. Default `Date.now`. */
  readonly now?: (() => number) | undefined
  /** The platform's error answer for a `status` fault without a body (and for 404s). */
  readonly errorAnswer?: ((status: number, request: FakeRequest) => Answer) | undefined
  /** The platform's rate-limit headers (on a window's 429). Default: `RateLimit-*` and `Retry-After`. */
  readonly rateLimitHeaders?: ((state: WindowState, request: FakeRequest) => Record<string, string>) | undefined
  /** Headers added to every answer (the platform's rate-limit counters, for instance). */
  readonly headers?: ((request: FakeRequest, answer: Answer) => Record<string, string>) | undefined
  /** Largest body `request.body()` reads. Default 64 MiB. */
  readonly maxBodyBytes?: number | undefined
}

interface Route {
  readonly method: string
  readonly segments: ReadonlyArray<string>
  readonly handler: Handler
  readonly operation: string | ((request: FakeRequest) => string)
}

interface Injected {
  readonly fault: Fault
  skip: number
  times: number
}

/** A fake platform server. */
export class FakeServer {
  /** Starts a server on 127.0.0.1 and an ephemeral port. */
  static async start(options: FakeServerOptions = {}): Promise<FakeServer> {
    const fake = new FakeServer(options)
    await new Promise<void>((resolve, reject) => {
      fake.server.once("error", reject)
      fake.server.listen(0, "127.0.0.1", () => resolve())
    })
    return fake
  }

  /** A server for the current scope, closed with it. */
  static make(options: FakeServerOptions = {}): Effect.Effect<FakeServer, never, Scope.Scope> {
    return Effect.acquireRelease(
      Effect.promise(() => FakeServer.start(options)),
      (fake) => Effect.promise(() => fake.close())
    )
  }

  /** Every request, in arrival order. */
  readonly requests: Array<LoggedRequest> = []

  private readonly server: Server
  private readonly routes: Array<Route> = []
  private readonly faults = new Map<string, Array<Injected>>()
  private readonly windows = new Map<string, { readonly limit: number; readonly windowMs: number; startMs: number; count: number }>()
  private readonly waiters = new Set<() => void>()
  private readonly sockets = new Set<Socket>()
  private readonly closing = new AbortController()
  readonly now: () => number

  private constructor(private readonly options: FakeServerOptions) {
    this.now = options.now ?? Date.now
    this.server = createServer((req, res) => void this.handle(req, res))
    this.server.on("connection", (socket) => {
      this.sockets.add(socket)
      socket.once("close", () => this.sockets.delete(socket))
    })
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** Stops listening, releases held answers and closes every connection. */
  close(): Promise<void> {
    this.closing.abort()
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
      for (const socket of this.sockets) socket.destroy()
    })
  }

  /**
   * Registers a route: `pattern` is a path with `:name` segments (a last `*` takes the rest of the path); `method`
   * `*` matches any. The operation (what faults and the log name) defaults to
   * `METHOD pattern`.
   */
  route(method: string, pattern: string, handler: Handler, options?: { readonly operation?: string | ((request: FakeRequest) => string) }): this {
    this.routes.push({
      method: method.toUpperCase(),
      segments: pattern.split("/").filter((part) => part !== ""),
      handler,
      operation: options?.operation ?? `${method.toUpperCase()} ${pattern}`
    })
    return this
  }

  /** The next `times` requests of `operation` (`*`: any) after `after` of them meet `fault`. */
  inject(operation: string, fault: Fault, options?: { readonly times?: number; readonly after?: number }): this {
    if (fault._tag === "RateLimitWindow") {
      const used = fault.limit - Math.min(fault.limit, Math.max(0, fault.remaining ?? fault.limit))
      this.windows.set(operation, { limit: fault.limit, windowMs: fault.windowMs, startMs: this.now(), count: used })
      return this
    }
    const queue = this.faults.get(operation) ?? []
    queue.push({ fault, skip: options?.after ?? 0, times: options?.times ?? 1 })
    this.faults.set(operation, queue)
    return this
  }

  /** Removes every injected fault and rate-limit window. */
  clearFaults(): void {
    this.faults.clear()
    this.windows.clear()
  }

  /** Requests of one operation. */
  requestsOf(operation: string): ReadonlyArray<LoggedRequest> {
    return this.requests.filter((request) => request.operation === operation)
  }

  /**
   * Resolves with the `count`-th request matching (an operation name or a
   * predicate), once it has arrived: for waiting on a signal, not a sleep.
   */
  waitForRequest(match: string | ((request: LoggedRequest) => boolean), count = 1): Promise<LoggedRequest> {
    const test = typeof match === "string" ? (request: LoggedRequest) => request.operation === match : match
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.requests.filter(test)
        if (found.length < count) return false
        resolve(found[count - 1]!)
        return true
      }
      if (check()) return
      const waiter = () => {
        if (check()) this.waiters.delete(waiter)
      }
      this.waiters.add(waiter)
      this.closing.signal.addEventListener("abort", () => reject(new Error("the fake server closed")), { once: true })
    })
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter()
  }

  private takeFault(operation: string): Fault | undefined {
    for (const key of [operation, "*"]) {
      const queue = this.faults.get(key)
      if (queue === undefined) continue
      for (const entry of queue) {
        if (entry.skip > 0) {
          entry.skip -= 1
          return undefined
        }
        if (entry.times > 0) {
          entry.times -= 1
          if (entry.times === 0) queue.splice(queue.indexOf(entry), 1)
          return entry.fault
        }
      }
    }
    return undefined
  }

  /** Counts a request in its operation's window; the window's state, and whether it is over the limit. */
  private takeWindow(operation: string) {
    const window = this.windows.get(operation) ?? this.windows.get("*")
    if (window === undefined) return undefined
    const nowMs = this.now()
    if (nowMs - window.startMs >= window.windowMs) {
      window.startMs = nowMs
      window.count = 0
    }
    const over = window.count >= window.limit
    if (!over) window.count += 1
    const state: WindowState = {
      limit: window.limit,
      remaining: Math.max(0, window.limit - window.count),
      resetAtMs: window.startMs + window.windowMs,
      windowMs: window.windowMs,
      nowMs
    }
    return { over, state }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const method = (req.method ?? "GET").toUpperCase()
    const log: { -readonly [K in keyof LoggedRequest]: LoggedRequest[K] } = {
      method,
      path: url.pathname,
      query: url.search,
      operation: undefined,
      headers: req.headers,
      at: this.now(),
      status: 0,
      outcome: "pending",
      applied: false,
      bodyBytes: 0,
      seq: ++arrivals
    }
    // The handler reads a counting copy of the body: the log knows how much arrived.
    const body = new PassThrough({
      transform(chunk: Buffer, _encoding, callback) {
        log.bodyBytes += chunk.byteLength
        callback(null, chunk)
      }
    })
    req.pipe(body)
    let route: Route | undefined
    let params: Record<string, string> = {}
    for (const candidate of this.routes) {
      if (candidate.method !== "*" && candidate.method !== method) continue
      const matched = matchPath(candidate.segments, url.pathname)
      if (matched !== undefined) {
        route = candidate
        params = matched
        break
      }
    }
    const dropConnection = () => {
      log.outcome = "dropped"
      req.socket.destroy()
      this.notify()
    }
    const unnamed = this.request(body, req.headers, url, method, params, `${method} ${url.pathname}`, dropConnection)
    const operation = route === undefined
      ? undefined
      : typeof route.operation === "string"
      ? route.operation
      : route.operation(unnamed)
    const request: FakeRequest = { ...unnamed, operation: operation ?? unnamed.operation }
    log.operation = operation
    this.requests.push(log)
    this.notify()

    try {
      if (route === undefined) {
        await drain(body)
        return this.send(res, log, request, this.errorAnswer(404, request))
      }
      const window = this.takeWindow(operation!)
      if (window?.over === true) {
        log.fault = "RateLimitWindow"
        await drain(body)
        const headers = (this.options.rateLimitHeaders ?? standardRateLimitHeaders)(window.state, request)
        const answer = this.errorAnswer(429, request)
        return this.send(res, log, request, { ...answer, headers: { ...answer.headers, ...headers } })
      }
      const fault = this.takeFault(operation!)
      log.fault = fault?._tag
      if (fault?._tag === "DropBeforeApply") return await this.drop(body, res, log)
      if (fault?._tag === "CutBody") return await this.cut(body, res, log, fault.afterBytes)
      if (fault?._tag === "Status") {
        await drain(body)
        const base = fault.body === undefined ? this.errorAnswer(fault.status, request) : { status: fault.status, body: fault.body }
        return this.send(res, log, request, { ...base, status: fault.status, headers: { ...base.headers, ...fault.headers } })
      }
      if (fault?._tag === "Slow" && fault.beforeApply === true) await this.hold(fault)
      const answer = await route.handler(request)
      // The handler cut the connection itself: no drain (the body will never end), no answer.
      if (log.outcome === "dropped") return
      log.applied = true
      this.notify()
      if (fault?._tag === "DropAfterApply") return await this.drop(body, res, log)
      // Answer only after the body was read, so a client streaming an upload sees the answer, not a reset.
      await drain(body)
      if (fault?._tag === "Slow" && fault.beforeApply !== true) await this.hold(fault)
      return this.send(res, log, request, answer)
    } catch (error) {
      await drain(body).catch(() => undefined)
      return this.send(res, log, request, { status: 500, body: { error: "FakeServerError", message: String(error) } })
    }
  }

  private request(
    stream: Readable,
    headers: IncomingHttpHeaders,
    url: URL,
    method: string,
    params: Record<string, string>,
    operation: string,
    dropConnection: () => void
  ): FakeRequest {
    const maxBodyBytes = this.options.maxBodyBytes ?? 64 * 1024 * 1024
    let body: Promise<Uint8Array> | undefined
    const readBody = () =>
      body ??= (async () => {
        const chunks: Array<Buffer> = []
        let size = 0
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          size += chunk.byteLength
          if (size > maxBodyBytes) throw new Error(`the fake reads bodies up to ${maxBodyBytes} bytes`)
          chunks.push(chunk)
        }
        return new Uint8Array(Buffer.concat(chunks))
      })()
    return {
      method,
      url,
      path: url.pathname,
      query: url.searchParams,
      headers,
      params,
      operation,
      stream,
      dropConnection,
      body: readBody,
      text: async () => new TextDecoder().decode(await readBody()),
      json: async () => {
        const text = new TextDecoder().decode(await readBody())
        return text === "" ? undefined : JSON.parse(text)
      }
    }
  }

  private errorAnswer(status: number, request: FakeRequest): Answer {
    return this.options.errorAnswer?.(status, request) ?? {
      status,
      body: { error: status === 404 ? "NotFound" : status === 429 ? "RateLimited" : "Error", message: `HTTP ${status}` }
    }
  }

  private hold(fault: Extract<Fault, { _tag: "Slow" }>): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => resolve()
      this.closing.signal.addEventListener("abort", done, { once: true })
      if (fault.until !== undefined) Promise.resolve(fault.until).then(done, done)
      if (fault.delayMs !== undefined) setTimeout(done, fault.delayMs)
      if (fault.until === undefined && fault.delayMs === undefined) done()
    })
  }

  private async drop(body: Readable, res: ServerResponse, log: LoggedRequest): Promise<void> {
    await drain(body)
    log.outcome = "dropped"
    res.socket?.destroy()
    this.notify()
  }

  private async cut(body: Readable, res: ServerResponse, log: LoggedRequest, afterBytes: number): Promise<void> {
    if (log.bodyBytes < afterBytes && !body.readableEnded) {
      for await (const _ of body) {
        if (log.bodyBytes >= afterBytes) break
      }
    }
    log.outcome = "dropped"
    res.socket?.destroy()
    this.notify()
  }

  private send(res: ServerResponse, log: LoggedRequest, request: FakeRequest, answer: Answer): void {
    // The handler dropped the connection (`dropConnection`): nothing to send, the log says dropped.
    if (log.outcome === "dropped") return
    const extra = this.options.headers?.(request, answer) ?? {}
    const headers: Record<string, string | ReadonlyArray<string>> = { ...extra, ...answer.headers }
    const has = (name: string) => Object.keys(headers).some((key) => key.toLowerCase() === name)
    log.status = answer.status
    log.outcome = "answered"
    if (typeof answer.body === "object" && answer.body !== null && !(answer.body instanceof Uint8Array)) log.answerJson = answer.body
    this.notify()
    if (res.destroyed) return
    if (answer.stream !== undefined) {
      res.writeHead(answer.status, headers as Record<string, string>)
      Readable.from(answer.stream).on("error", () => res.destroy()).pipe(res)
      return
    }
    const payload = answer.body === undefined
      ? new Uint8Array()
      : answer.body instanceof Uint8Array
      ? answer.body
      : typeof answer.body === "string"
      ? new TextEncoder().encode(answer.body)
      : new TextEncoder().encode(JSON.stringify(answer.body))
    if (!has("content-type") && answer.body !== undefined) {
      headers["content-type"] = answer.body instanceof Uint8Array
        ? "application/octet-stream"
        : typeof answer.body === "string"
        ? "text/plain; charset=utf-8"
        : "application/json; charset=utf-8"
    }
    if (!has("content-length")) headers["content-length"] = String(payload.byteLength)
    res.writeHead(answer.status, headers as Record<string, string>)
    res.end(payload)
  }
}

/** Reads and discards what is left of a request body. */
const drain = async (body: Readable): Promise<void> => {
  if (body.readableEnded || body.destroyed) return
  for await (const _ of body) {
    // discard
  }
}
