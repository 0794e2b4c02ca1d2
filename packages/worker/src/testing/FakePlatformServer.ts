/**
 * A fake platform over HTTP on 127.0.0.1 for multi-process tests: it records
 * each post when the request arrives (so a post "reaches the platform" even
 * if the caller dies before the answer) and counts posts per destination.
 * `holdMs` delays answers, to keep calls in flight while a test kills a worker.
 * `until` waits for a condition on its state, checked whenever a request
 * arrives or a connection closes, so tests wait for what happened, never for time.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo, Socket } from "node:net"

export interface FakePlatform {
  readonly url: string
  /** Posts per destination id. */
  readonly posts: Map<string, number>
  /** Results by attempt id. */
  readonly byAttempt: Map<string, unknown>
  /** Requests that arrived and have not been answered yet. */
  inFlight: number
  holdMs: number
  /** Connections open to it now (a killed caller's are closed once the server has read all it sent). */
  readonly connections: () => number
  /** Resolves once `condition` holds, checked now and after every arrival and closed connection. */
  readonly until: (condition: () => boolean) => Promise<void>
  readonly close: () => Promise<void>
}

export const startFakePlatform = async (options: { readonly holdMs?: number } = {}): Promise<FakePlatform> => {
  const state = {
    posts: new Map<string, number>(),
    byAttempt: new Map<string, unknown>(),
    inFlight: 0,
    holdMs: options.holdMs ?? 0
  }
  const sockets = new Set<Socket>()
  const held = new Set<ReturnType<typeof setTimeout>>()
  const waiters = new Set<() => void>()
  const changed = () => {
    for (const check of [...waiters]) check()
  }
  const until = (condition: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!condition()) return
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
      check()
    })
  const server: Server = createServer((req, res) => {
    let raw = ""
    req.on("data", (chunk) => (raw += chunk))
    req.on("end", () => {
      const body = JSON.parse(raw || "{}")
      const answer = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" })
        res.end(JSON.stringify(value))
      }
      if (req.url === "/publish") {
        state.posts.set(body.destinationId, (state.posts.get(body.destinationId) ?? 0) + 1)
        const result = {
          platformPostId: `p_${body.destinationId}`,
          url: `https://fake.example/p/${body.destinationId}`,
          publishedAt: new Date().toISOString(),
          parts: [{ platformPostId: `p_${body.destinationId}`, url: `https://fake.example/p/${body.destinationId}` }]
        }
        state.byAttempt.set(body.attemptId, result)
        state.inFlight++
        const timer = setTimeout(() => {
          held.delete(timer)
          state.inFlight--
          answer(200, result)
        }, state.holdMs)
        held.add(timer)
        changed()
        return
      }
      if (req.url === "/find") {
        const result = state.byAttempt.get(body.attemptId)
        return answer(200, result === undefined ? { found: false } : { found: true, result })
      }
      answer(404, { error: "not found" })
    })
  })
  server.on("connection", (socket: Socket) => {
    sockets.add(socket)
    socket.on("close", () => {
      sockets.delete(socket)
      changed()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    connections: () => sockets.size,
    until,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of held) clearTimeout(timer)
        held.clear()
        server.closeAllConnections()
        server.close(() => resolve())
      })
  })
}
