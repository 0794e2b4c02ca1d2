/**
 * The baseline `bench/api.ts` compares the API with: a plain `node:http`
 * server doing the minimum SQL the API's handlers need, on the same schema
 * (made by `omnipost serve`'s migrations), with no authentication, rate
 * limiting, idempotency, schema decoding or logging.
 *
 * - `POST /v1/posts`: the post and its destinations inserted in one transaction;
 * - `GET /v1/posts/:id`: the post with its destinations, one statement;
 * - `GET /v1/posts?limit=50`: the newest posts with their destinations, one statement.
 *
 *   node baseline.ts --port 8080 --account acc_… (--postgres URL | --pglite DIR)
 *
 * Prints `listening` once it answers. On PostgreSQL it uses a `pg` pool of
 * 10 connections, as the API does; on PGlite the database itself, in this
 * process (no socket).
 */
import { PGlite } from "@electric-sql/pglite"
import { randomBytes } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { parseArgs } from "node:util"
import pg from "pg"

const { values } = parseArgs({
  options: { port: { type: "string" }, account: { type: "string" }, postgres: { type: "string" }, pglite: { type: "string" } }
})

interface Db {
  readonly query: (text: string, params: ReadonlyArray<unknown>) => Promise<ReadonlyArray<Record<string, unknown>>>
  readonly transaction: (statements: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]>) => Promise<void>
}

const postgres = (url: string): Db => {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  return {
    query: async (text, params) => (await pool.query(text, params as Array<unknown>)).rows,
    transaction: async (statements) => {
      const client = await pool.connect()
      try {
        await client.query("BEGIN")
        for (const [text, params] of statements) await client.query(text, params as Array<unknown>)
        await client.query("COMMIT")
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    }
  }
}

const pglite = async (dir: string): Promise<Db> => {
  const db = await PGlite.create(dir)
  return {
    query: async (text, params) => (await db.query<Record<string, unknown>>(text, params as Array<unknown>)).rows,
    transaction: (statements) =>
      db.transaction(async (tx) => {
        for (const [text, params] of statements) await tx.query(text, params as Array<unknown>)
      })
  }
}

const db = values.postgres !== undefined ? postgres(values.postgres) : await pglite(values.pglite!)
const [account] = await db.query("SELECT id, organization_id, platform FROM accounts WHERE id = $1", [values.account])
if (account === undefined) throw new Error(`no account ${values.account}`)
const organizationId = account.organization_id as string

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`

const withDestinations = `
  SELECT p.*, COALESCE((SELECT json_agg(d ORDER BY d.position) FROM destinations d WHERE d.post_id = p.id), '[]') AS destinations
  FROM posts p`

const send = (response: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  response.end(text)
}

const readBody = (request: IncomingMessage) =>
  new Promise<string>((done, fail) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => done(Buffer.concat(chunks).toString("utf8")))
    request.on("error", fail)
  })

const create = async (request: IncomingMessage, response: ServerResponse) => {
  const body = JSON.parse(await readBody(request)) as {
    content: { text: string }
    destinations: ReadonlyArray<{ accountId: string }>
    scheduledAt: string
  }
  const postId = id("post")
  const scheduledAt = new Date(body.scheduledAt)
  const destinations = body.destinations.map((d, position) => ({
    id: id("dst"),
    position,
    platform: account.platform as string,
    accountId: d.accountId
  }))
  await db.transaction([
    [
      "INSERT INTO posts (id, organization_id, status, content, scheduled_at) VALUES ($1, $2, 'scheduled', $3, $4)",
      [postId, organizationId, JSON.stringify(body.content), scheduledAt]
    ],
    ...destinations.map((d) =>
      [
        `INSERT INTO destinations (id, post_id, organization_id, position, platform, account_id, status, due_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)`,
        [d.id, postId, organizationId, d.position, d.platform, d.accountId, scheduledAt]
      ] as const
    )
  ])
  send(response, 201, {
    id: postId,
    status: "scheduled",
    content: body.content,
    destinations: destinations.map((d) => ({ ...d, status: "queued", attempts: 0 })),
    scheduledAt: scheduledAt.toISOString()
  })
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? "/", "http://localhost")
  const handled = request.method === "POST" && url.pathname === "/v1/posts"
    ? create(request, response)
    : request.method === "GET" && url.pathname === "/v1/posts"
    ? db.query(`${withDestinations} WHERE p.organization_id = $1 ORDER BY p.created_at DESC, p.id DESC LIMIT $2`, [
      organizationId,
      Math.min(100, Number(url.searchParams.get("limit") ?? 20))
    ]).then((rows) => send(response, 200, { data: rows }))
    : request.method === "GET" && url.pathname.startsWith("/v1/posts/")
    ? db.query(`${withDestinations} WHERE p.id = $1 AND p.organization_id = $2`, [url.pathname.slice(10), organizationId]).then(
      (rows) => rows.length === 0 ? send(response, 404, { error: { code: "NOT_FOUND" } }) : send(response, 200, rows[0])
    )
    : Promise.resolve(send(response, 404, { error: { code: "NOT_FOUND" } }))
  handled.catch((error: unknown) => send(response, 500, { error: { code: "INTERNAL_ERROR", message: String(error) } }))
})
server.listen(Number(values.port), "127.0.0.1", () => console.log("listening"))
