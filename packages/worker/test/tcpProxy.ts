/**
 * A TCP proxy for tests, in front of a server (PostgreSQL): `cut` closes
 * every connection through it and refuses new ones (each is closed as soon
 * as it is accepted) until `restore`, so a test can take the database away
 * from one worker without touching the server other suites share.
 */
import { Effect, Redacted } from "effect"
import { makeScratchPostgres } from "../src/storage/Database.js"
import { createConnection, createServer, type Socket } from "node:net"

export interface TcpProxy {
  readonly port: number
  /** Closes every connection and refuses new ones. */
  readonly cut: Effect.Effect<void>
  /** Lets connections through again. */
  readonly restore: Effect.Effect<void>
  /** Connections refused while cut, so far: a signal that clients noticed. */
  readonly refused: () => number
}

/**
 * `tap`, when given, is made once per connection and sees every chunk the
 * client sends (before it is forwarded): `statementCounter` reads the
 * PostgreSQL protocol in them.
 */
export const make = (
  target: { readonly host: string; readonly port: number },
  options: { readonly tap?: () => (chunk: Buffer) => void } = {}
) =>
  Effect.acquireRelease(
    Effect.callback<{ proxy: TcpProxy; close: () => void }>((resume) => {
      const open = new Set<Socket>()
      let cut = false
      let refused = 0
      const server = createServer((client) => {
        if (cut) {
          refused++
          client.destroy()
          return
        }
        const upstream = createConnection(target)
        open.add(client)
        open.add(upstream)
        const close = () => {
          client.destroy()
          upstream.destroy()
          open.delete(client)
          open.delete(upstream)
        }
        client.on("error", close).on("close", close)
        upstream.on("error", close).on("close", close)
        const tap = options.tap?.()
        if (tap !== undefined) client.on("data", tap)
        client.pipe(upstream).pipe(client)
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({
          proxy: {
            port,
            cut: Effect.sync(() => {
              cut = true
              for (const socket of open) socket.destroy()
              open.clear()
            }),
            restore: Effect.sync(() => {
              cut = false
            }),
            refused: () => refused
          },
          close: () => {
            for (const socket of open) socket.destroy()
            server.close()
          }
        }))
      })
    }),
    ({ close }) => Effect.sync(close)
  ).pipe(Effect.map(({ proxy }) => proxy))

/**
 * A scratch database on the PostgreSQL server `databaseUrl` names, reached
 * through a new proxy (with `tap`): the proxy and the URL through it.
 */
export const scratchPostgres = (databaseUrl: string, options: { readonly tap?: () => (chunk: Buffer) => void } = {}) =>
  Effect.gen(function*() {
    const direct = new URL(yield* makeScratchPostgres(Redacted.make(databaseUrl)).pipe(Effect.map(Redacted.value)))
    const proxy = yield* make({ host: direct.hostname, port: Number(direct.port || 5432) }, options)
    const through = new URL(direct)
    through.hostname = "127.0.0.1"
    through.port = String(proxy.port)
    return { proxy, url: Redacted.make(through.toString()) }
  })
