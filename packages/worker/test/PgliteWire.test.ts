/**
 * The in-process connection to PGlite (`storage/internal/pgliteWire.ts`):
 * through the client, pipelines, errors, transactions and large values come
 * out right; on the raw protocol, messages split across writes, a cancel
 * request and `Terminate` are handled as a server's socket would.
 */
import { PGlite } from "@electric-sql/pglite"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { SqlClient } from "effect/sql"
import type { Duplex } from "node:stream"
import { Database } from "../src/storage/Database.js"
import { connect, frame } from "../src/storage/internal/pgliteWire.js"

const cstring = (text: string) => Buffer.from(`${text}\0`)

const startupPacket = () => {
  const body = Buffer.concat([cstring("user"), cstring("postgres"), cstring("database"), cstring("postgres"), Buffer.from([0])])
  const head = Buffer.alloc(8)
  head.writeInt32BE(8 + body.length, 0)
  head.writeInt32BE(196608, 4)
  return Buffer.concat([head, body])
}

const message = (type: string, body: Buffer) => {
  const head = Buffer.alloc(5)
  head.write(type, 0, "latin1")
  head.writeInt32BE(4 + body.length, 1)
  return Buffer.concat([head, body])
}

const query = (text: string) => message("Q", cstring(text))

interface Answer {
  readonly type: string
  readonly body: Buffer
}

/** Reads whole messages from `stream` until one of type `until` (or the stream's end). */
const read = (stream: Duplex, until: string) =>
  new Promise<{ readonly messages: ReadonlyArray<Answer>; readonly ended: boolean }>((done, fail) => {
    let buffer = Buffer.alloc(0)
    const messages: Array<Answer> = []
    const finish = (ended: boolean) => {
      stream.off("data", onData)
      stream.off("end", onEnd)
      stream.off("close", onEnd)
      stream.off("error", fail)
      done({ messages, ended })
    }
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      while (buffer.length >= 5 && buffer.length >= 1 + buffer.readInt32BE(1)) {
        const length = buffer.readInt32BE(1)
        messages.push({ type: String.fromCharCode(buffer[0]!), body: buffer.subarray(5, 1 + length) })
        buffer = buffer.subarray(1 + length)
        if (messages.at(-1)!.type === until) return finish(false)
      }
    }
    const onEnd = () => finish(true)
    stream.on("data", onData)
    stream.once("end", onEnd)
    stream.once("close", onEnd)
    stream.once("error", fail)
  })

/** The first column of a `DataRow`, as text. */
const firstValue = (row: Answer) => {
  const length = row.body.readInt32BE(2)
  return row.body.subarray(6, 6 + length).toString()
}

/** A connection past its startup: the stream and the status of its first ReadyForQuery (I: idle, T: in a transaction). */
const opened = async (db: PGlite) => {
  const stream = connect(db)
  const greeting = read(stream, "Z")
  stream.write(startupPacket())
  return { stream, status: String.fromCharCode((await greeting).messages.at(-1)!.body[0]!) }
}

/** Runs `text` as a simple query: the first column of its rows, and the ReadyForQuery status after it. */
const ask = async (stream: Duplex, text: string) => {
  const answered = read(stream, "Z")
  stream.write(query(text))
  const { messages } = await answered
  return { values: messages.filter((m) => m.type === "D").map(firstValue), status: String.fromCharCode(messages.at(-1)!.body[0]!) }
}

/** Runs `use` on a fresh in-memory PGlite, closed afterwards. */
const withPglite = async (use: (db: PGlite) => Promise<void>) => {
  const db = await PGlite.create()
  try {
    await use(db)
  } finally {
    await db.close()
  }
}

const nextTurn = () => new Promise<void>((done) => setImmediate(done))

describe("PGlite over the in-process connection: the raw protocol", () => {
  it("frames complete messages and stops before Terminate", () => {
    const one = query("SELECT 1")
    const two = Buffer.concat([one, one])
    assert.deepStrictEqual(frame(two), { end: two.length, terminate: false })
    assert.deepStrictEqual(frame(two.subarray(0, two.length - 3)), { end: one.length, terminate: false })
    assert.deepStrictEqual(frame(one.subarray(0, 4)), { end: 0, terminate: false })
    assert.deepStrictEqual(frame(Buffer.concat([one, message("X", Buffer.alloc(0)), one])), { end: one.length, terminate: true })
  })

  it("answers a startup packet and a query each written in pieces over several turns, then ends at Terminate", () =>
    withPglite(async (db) => {
      const stream = connect(db)
      const startup = startupPacket()
      const ready = read(stream, "Z")
      stream.write(startup.subarray(0, 3))
      await nextTurn()
      stream.write(startup.subarray(3))
      const greeting = await ready
      assert.strictEqual(greeting.messages[0]?.type, "R", "AuthenticationOk first")
      assert.strictEqual(greeting.messages[0]?.body.readInt32BE(0), 0)
      assert.strictEqual(greeting.messages.at(-1)?.type, "Z")

      const asked = Buffer.concat([query("SELECT 41 + 1"), query("SELECT 'second'")])
      const answered = read(stream, "never")
      stream.write(asked.subarray(0, 7))
      await nextTurn()
      stream.write(asked.subarray(7, 20))
      await nextTurn()
      stream.write(asked.subarray(20))
      stream.write(message("X", Buffer.alloc(0)))
      // Both queries answered in order, each ending with ReadyForQuery, then the end.
      const all = await answered
      assert.isTrue(all.ended, "the stream ends at Terminate")
      const rows = all.messages.filter((m) => m.type === "D").map(firstValue)
      assert.deepStrictEqual(rows, ["42", "second"])
      assert.strictEqual(all.messages.filter((m) => m.type === "Z").length, 2)
      // PGlite is still there for the next connection.
      const { stream: again } = await opened(db)
      assert.deepStrictEqual((await ask(again, "SELECT 7")).values, ["7"])
      again.destroy()
    }))

  it("rolls back the transaction a closed connection left open; the next connection starts clean", () =>
    withPglite(async (db) => {
      const { stream: first } = await opened(db)
      for (const text of ["BEGIN", "CREATE TABLE wire_left (n int)", "INSERT INTO wire_left VALUES (1)"]) {
        // ReadyForQuery's status: T, inside a transaction block.
        assert.strictEqual((await ask(first, text)).status, "T")
      }
      first.destroy()

      const { status, stream: second } = await opened(db)
      assert.strictEqual(status, "I", "idle, not inside the first one's transaction")
      assert.deepStrictEqual((await ask(second, "SELECT to_regclass('wire_left') IS NULL AS gone")).values, ["t"])
      assert.isFalse(db.isInTransaction())
      second.destroy()
    }))

  it("closes on a cancel request without passing it to PGlite", () =>
    withPglite(async (db) => {
      const stream = connect(db)
      const cancel = Buffer.alloc(16)
      cancel.writeInt32BE(16, 0)
      cancel.writeInt32BE(80877102, 4)
      const answer = read(stream, "Z")
      stream.write(cancel)
      const result = await answer
      assert.isTrue(result.ended)
      assert.deepStrictEqual(result.messages, [])
      assert.deepStrictEqual((await db.query<{ n: number }>("SELECT 1 AS n")).rows, [{ n: 1 }])
    }))
})

describe("PGlite over the in-process connection: through the client", () => {
  layer(Database.layerPglite(), { timeout: 60_000 })((it) => {
    it.effect("answers 500 pipelined statements each with its own value", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const values = Array.from({ length: 500 }, (_, i) => i)
        const answers = yield* Effect.forEach(values, (i) => sql<{ n: number }>`SELECT ${i}::int * 2 AS n`, { concurrency: "unbounded" })
        assert.deepStrictEqual(answers.map((rows) => rows[0]!.n), values.map((i) => i * 2))
      }))

    it.effect("fails only the statement that fails in a pipeline; the others and the next ones succeed", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const results = yield* Effect.forEach(
          [1, 0, 3, 0, 5],
          (d) => Effect.exit(sql<{ n: number }>`SELECT (10 / ${d}::int)::int AS n`),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(results.map((exit) => Exit.isSuccess(exit) ? exit.value[0]!.n : "failed"), [10, "failed", 3, "failed", 2])
        const after = yield* sql<{ n: number }>`SELECT 1 AS n`
        assert.strictEqual(after[0]!.n, 1)
      }))

    it.effect("survives statements interrupted after they were sent: the next statements are answered", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        // Sent, then interrupted before PGlite ran them: the client asks to cancel on a connection of its own.
        const fibers = yield* Effect.forEach([1, 2], (i) => Effect.forkChild(sql`SELECT pg_sleep(0.01), ${i}::int AS n`))
        yield* Effect.yieldNow
        const exits = yield* Effect.forEach(fibers, (fiber) => Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
        assert.isTrue(exits.every(Exit.hasInterrupts))
        const answers = yield* Effect.forEach([1, 2, 3], (i) => sql<{ n: number }>`SELECT ${i}::int AS n`, { concurrency: "unbounded" })
        assert.deepStrictEqual(answers.map((rows) => rows[0]!.n), [1, 2, 3])
      }))

    it.effect("keeps concurrent read-modify-write transactions apart", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE wire_counter (n int NOT NULL)`
        yield* sql`INSERT INTO wire_counter VALUES (0)`
        yield* Effect.forEach(Array.from({ length: 30 }, (_, i) => i), () =>
          Effect.gen(function*() {
            const [row] = yield* sql<{ n: number }>`SELECT n FROM wire_counter`
            yield* sql`UPDATE wire_counter SET n = ${row!.n + 1}`
          }).pipe(sql.withTransaction), { concurrency: 10 })
        const [final] = yield* sql<{ n: number }>`SELECT n FROM wire_counter`
        assert.strictEqual(final!.n, 30)
      }))

    it.effect("carries values and answers larger than one write", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const big = "é".repeat(1_500_000)
        const [echo] = yield* sql<{ text: string }>`SELECT ${big}::text AS text`
        assert.strictEqual(echo!.text.length, big.length)
        assert.isTrue(echo!.text === big)
        const rows = yield* sql<{ n: number }>`SELECT generate_series(1, 20000) AS n`
        assert.strictEqual(rows.length, 20000)
        assert.strictEqual(rows[19999]!.n, 20000)
      }))
  })
})
