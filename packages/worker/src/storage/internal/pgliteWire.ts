/**
 * The client's connection to embedded PGlite, without a socket: a `Duplex`
 * that `@effect/sql-pg` writes the wire protocol into (its `stream` option).
 * What arrived in one turn of the event loop goes to PGlite in one call
 * (`execProtocolRawStream` under `runExclusive`: PGlite's documented way to
 * speak the protocol to it directly), and everything PGlite wrote back comes
 * out as one chunk.
 *
 * Why not `@electric-sql/pglite-socket` on 127.0.0.1 (what the worker used
 * until 2026-12-04): it splits what it reads into single messages and runs
 * each on its own (a lock, a call into PGlite and a socket write per message:
 * five or six per statement), and every statement crossed the kernel both
 * ways. PGlite's main loop runs a buffer of several messages in one call, so a
 * pipeline of statements is one call here. Measured on the API (worker README,
 * "Where a request's time goes"): the embedded server's CPU per `POST
 * /v1/posts` down about a third, per `GET /v1/posts/:id` about 30 %.
 *
 * PGlite is one backend: a transaction's messages must not interleave with
 * another connection's. The database opens one connection, and each call runs
 * under PGlite's exclusive lock.
 *
 * A connection that closes inside a transaction (the client gave it up, or
 * was stopped) has it rolled back, as a server does when a backend's socket
 * closes: PGlite would otherwise keep it open for the next connection.
 *
 * Framing: the first message (the startup packet) has no type byte and goes
 * alone; a cancel request (startup-shaped) is answered by closing, as PGlite
 * runs one call at a time and cannot cancel one; `Terminate` ends the stream
 * and is not passed on (PGlite skips a call that starts with it; how it would
 * treat one later in a buffer is not relied on). Every other call takes the
 * complete messages received, the rest kept for the next.
 */
import type { PGlite } from "@electric-sql/pglite"
import { Duplex } from "node:stream"

/** The cancel request's code, in a 16-byte startup-shaped packet (PostgreSQL's protocol). */
const cancelRequestCode = 80877102
/** `Terminate`'s type byte, `X`. */
const terminateType = 0x58

/** A simple query, `ROLLBACK`. */
const rollback = (() => {
  const text = Buffer.from("ROLLBACK\0")
  const message = Buffer.alloc(5 + text.length)
  message.write("Q", 0, "latin1")
  message.writeInt32BE(4 + text.length, 1)
  text.copy(message, 5)
  return message
})()

interface Framed {
  /** Where the complete messages end (before a `Terminate`). */
  readonly end: number
  /** A `Terminate` follows them. */
  readonly terminate: boolean
}

/** The complete messages at the start of `buffer` (a type byte, then a length that counts itself). */
export const frame = (buffer: Uint8Array): Framed => {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  let end = 0
  while (buffer.length - end >= 5) {
    if (buffer[end] === terminateType) return { end, terminate: true }
    const length = view.getInt32(end + 1)
    if (length < 4 || buffer.length - end < 1 + length) break
    end += 1 + length
  }
  return { end, terminate: false }
}

/** A new connection to `db`, for `PgClient`'s `stream` option. */
export const connect = (db: PGlite): Duplex => {
  let pending: Array<Buffer> = []
  let started = false
  let scheduled = false
  let running = false
  /** Written to while a call ran: drain again after it. */
  let again = false
  /** This connection's last call left a transaction open. */
  let inTransaction = false
  let released = false

  /** Rolls back PGlite's open transaction; only under its exclusive lock. */
  const rollBack = () => db.execProtocolRawStream(rollback, { onRawData: () => {} })

  /** A transaction this connection's last call left open, rolled back (PGlite closed meanwhile: nothing to do). */
  const rollbackLeft = () => {
    if (!inTransaction) return
    inTransaction = false
    db.runExclusive(async () => {
      if (db.isInTransaction()) await rollBack()
    }).catch(() => {})
  }

  /** Closed: what it left open is rolled back, by the call running if there is one, else now. */
  const release = () => {
    if (released) return
    released = true
    if (!running) rollbackLeft()
  }

  const stream: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      pending.push(chunk)
      schedule()
      callback()
    },
    final(callback) {
      stream.push(null)
      release()
      callback()
    },
    destroy(error, callback) {
      release()
      callback(error)
    }
  })

  const schedule = () => {
    if (running) {
      again = true
      return
    }
    if (scheduled) return
    scheduled = true
    // After this turn's writes: a pipeline's statements go in together.
    setImmediate(drain)
  }

  const run = (messages: Uint8Array) =>
    db.runExclusive(async () => {
      const answers: Array<Buffer> = []
      // `data` is a view of PGlite's memory, reused by its next write: copied.
      await db.execProtocolRawStream(messages, { onRawData: (data) => answers.push(Buffer.from(data)) })
      inTransaction = db.isInTransaction()
      if (released && inTransaction) {
        // Closed while this call ran: nobody will finish the transaction it left open.
        await rollBack()
        inTransaction = false
      }
      return answers.length === 1 ? answers[0]! : Buffer.concat(answers)
    })

  const answer = (data: Buffer) => {
    if (data.length > 0 && !stream.destroyed) stream.push(data)
  }

  /** The startup packet, or a cancel request; the bytes after it. */
  const startup = async (buffer: Buffer): Promise<Buffer | undefined> => {
    if (buffer.length < 8) return buffer
    const length = buffer.readInt32BE(0)
    if (length === 16 && buffer.readInt32BE(4) === cancelRequestCode) {
      stream.destroy()
      return undefined
    }
    if (buffer.length < length) return buffer
    started = true
    answer(await run(buffer.subarray(0, length)))
    return buffer.subarray(length)
  }

  const drain = async () => {
    scheduled = false
    if (stream.destroyed || pending.length === 0) return
    running = true
    try {
      let buffer: Buffer | undefined = pending.length === 1 ? pending[0]! : Buffer.concat(pending)
      pending = []
      if (!started) {
        buffer = await startup(buffer)
        if (buffer === undefined) return
        if (!started) {
          // Incomplete: kept in front of whatever arrived meanwhile.
          pending.unshift(buffer)
          return
        }
      }
      const { end, terminate } = frame(buffer)
      if (end > 0) answer(await run(buffer.subarray(0, end)))
      if (terminate) {
        stream.push(null)
        release()
        return
      }
      if (end < buffer.length) pending.unshift(buffer.subarray(end))
    } catch (error) {
      stream.destroy(error instanceof Error ? error : new Error(String(error)))
    } finally {
      running = false
      if (released) rollbackLeft()
      else if (again && !stream.destroyed) {
        again = false
        schedule()
      }
    }
  }

  return stream
}
