/**
 * The database: one code path for PostgreSQL and for embedded PGlite.
 *
 * Every query goes through `@effect/sql-pg`'s `PgClient`. With `DATABASE_URL`
 * set it talks to that PostgreSQL; otherwise this module starts PGlite (data
 * in `OMNIPOST_DATA_DIR/pgdata`, default `./.omnipost/pgdata`) in this process
 * and the same client speaks the same wire protocol to it over an in-process
 * stream (`internal/pgliteWire.ts`), so the same SQL and the same migrations
 * run on both.
 *
 * PGlite is one single-user backend: the pool holds exactly one connection to
 * it (transactions queue behind each other, which is correct and fast enough
 * for one embedded process), and `listen`/`notify` are an in-process hub: PGlite
 * belongs to one process anyway. On PostgreSQL they are `LISTEN`/`NOTIFY`,
 * reaching every process on the database.
 *
 * The layers provide `Database`, `PgClient` and `SqlClient`, with the
 * migrations applied.
 */
import { PGlite } from "@electric-sql/pglite"
import { PgClient } from "@effect/sql-pg"
import { Cause, Config, Context, Data, Effect, Layer, Option, PubSub, Redacted, Runtime, type Scope, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, SqlError } from "effect/sql"
import { randomBytes } from "node:crypto"
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from "node:fs"
import { join, resolve } from "node:path"
import * as Migrations from "./Migrations.js"
import * as PgliteWire from "./internal/pgliteWire.js"

export type DatabaseKind = "postgres" | "pglite"

/**
 * Whether `cause` failed (or died) because the database could not be reached:
 * a connection that could not be opened or was lost (`ConnectionError`), as
 * opposed to a statement the database refused. The API answers these 503
 * `DATABASE_UNAVAILABLE`; the scheduler simply tries again.
 */
export const isUnreachable = (cause: Cause.Cause<unknown>): boolean =>
  cause.reasons.some((reason) => {
    const error = Cause.isFailReason(reason) ? reason.error : Cause.isDieReason(reason) ? reason.defect : undefined
    return SqlError.isSqlError(error) && error.reason._tag === "ConnectionError"
  })

export interface DatabaseShape {
  readonly kind: DatabaseKind
  /**
   * On PostgreSQL, the URL other clients (another process, a test) can connect
   * with; on PGlite, `pglite:<data directory>` (`pglite:memory`), which names
   * the database but takes no connection: PGlite belongs to this process.
   */
  readonly url: Redacted.Redacted
  /**
   * Sends a notification to every listener of `channel` (every process on
   * PostgreSQL). Call it after the change it announces has committed
   * (`sql.afterCommit`): a listener that wakes early would find nothing.
   */
  readonly notify: (channel: string, payload: string) => Effect.Effect<void, SqlError.SqlError>
  /** The payloads sent to `channel` from now on, until the scope closes (never any when `notifications` is `poll`). */
  readonly listen: (channel: string) => Effect.Effect<Stream.Stream<string, SqlError.SqlError>, SqlError.SqlError, Scope.Scope>
  /**
   * How this process learns of changes made elsewhere: `listen` (LISTEN on
   * the database, or on `OMNIPOST_DATABASE_LISTEN_URL`'s direct connection
   * behind a pooler) or `poll` (behind a transaction pooler with no direct
   * URL: LISTEN needs a session, so only the schedulers' polls find work).
   */
  readonly notifications: "listen" | "poll"
}

/**
 * The connection pooler in front of PostgreSQL, if any (`OMNIPOST_DATABASE_POOLER`):
 * `transaction` (PgBouncer's transaction mode, where consecutive statements
 * may run on different server connections) turns off named prepared
 * statements and LISTEN on pooled connections. The worker keeps no other
 * session state: locks are transaction-scoped (`pg_advisory_xact_lock`), no
 * `SET`, no temporary tables, NOTIFY is `pg_notify` inside the transaction.
 */
export type Pooler = "none" | "transaction"

/**
 * Connections the pool keeps open while idle. A burst of due posts runs
 * several statements at once (two marks, a settle, a claim); were their
 * connections closed for idleness (after 60 s), each would be opened at the
 * due instant, and a new PostgreSQL backend costs milliseconds of the
 * server's CPU, right when every worker needs it.
 */
const defaultPoolMin = 4

/**
 * Statements from different fibers that may share one pooled connection,
 * pipelined into one write (`@effect/sql-pg`'s `multiplex`; its own default
 * is 32); transactions, LISTEN and streams still take a connection of their
 * own. The pool leases the first connection with room and grows to about
 * the statements in flight divided by this depth, so the depth also decides
 * how many server backends a burst keeps busy. Measured on the API bench (32
 * clients, one key, a 2-core machine; worker README, "Where a request's time
 * goes"): 4 → 16 took `POST /v1/posts` from 0.59–0.63x of the baseline to
 * 0.78x, its p99 from 2.2–2.8x to 1.8x and its CPU per request down a
 * tenth (fewer writes); our reading: fewer backends contending for the key's
 * rate-limit row and for the CPU. The price: a slow statement delays those
 * queued behind it on its connection (1 turns pipelining off).
 */
const defaultMultiplex = 16

export class Database extends Context.Service<Database, DatabaseShape>()("@omnipost/worker/Database") {
  /** From the environment: `DATABASE_URL` for PostgreSQL, else PGlite in `OMNIPOST_DATA_DIR` (default `.omnipost`). */
  static readonly layer: Layer.Layer<Database | PgClient.PgClient | SqlClient.SqlClient, unknown> = Layer.unwrap(
    Effect.gen(function*() {
      const url = yield* Config.option(Config.Redacted("DATABASE_URL"))
      const dataDir = yield* Config.String("OMNIPOST_DATA_DIR").pipe(Config.withDefault(".omnipost"))
      const poolSize = yield* Config.Int("OMNIPOST_DB_POOL_SIZE").pipe(Config.withDefault(10))
      const poolMin = yield* Config.Int("OMNIPOST_DB_POOL_MIN").pipe(Config.withDefault(defaultPoolMin))
      const multiplex = yield* Config.Int("OMNIPOST_DB_MULTIPLEX").pipe(Config.withDefault(defaultMultiplex))
      const listenUrl = yield* Config.option(Config.Redacted("OMNIPOST_DATABASE_LISTEN_URL"))
      const pooler = yield* Config.Literals(["none", "transaction"], "OMNIPOST_DATABASE_POOLER").pipe(Config.withDefault("none"))
      return Option.isSome(url) && Redacted.value(url.value) !== ""
        ? Database.layerPostgres({
          url: url.value,
          maxConnections: poolSize,
          minConnections: poolMin,
          multiplex,
          listenUrl: Option.getOrUndefined(Option.filter(listenUrl, (u) => Redacted.value(u) !== "")),
          pooler
        })
        : Database.layerPglite({ dataDir: join(dataDir, "pgdata"), multiplex })
    })
  )

  /** A PostgreSQL at `url`. */
  static readonly layerPostgres = (options: {
    readonly url: Redacted.Redacted
    readonly maxConnections?: number | undefined
    /** Connections kept open even when idle (at most `maxConnections`); default 4, see `defaultPoolMin`. */
    readonly minConnections?: number | undefined
    /** Statements that may share a connection, pipelined (1: none); default 16, see `defaultMultiplex`. Off behind a transaction pooler. */
    readonly multiplex?: number | undefined
    /** A direct (unpooled) URL for LISTEN: one connection per process. */
    readonly listenUrl?: Redacted.Redacted | undefined
    /** The pooler `url` goes through; default `none`. */
    readonly pooler?: Pooler | undefined
  }) =>
    Layer.effectContext(makePostgres(options)).pipe(Layer.provide(Reactivity.layer))

  /** Embedded PGlite; `dataDir` omitted means in memory. */
  static readonly layerPglite = (options: { readonly dataDir?: string | undefined; readonly multiplex?: number | undefined } = {}) =>
    Layer.effectContext(makePglite(options)).pipe(Layer.provide(Reactivity.layer))

  /**
   * An isolated, migrated database for one test suite: a fresh in-memory PGlite,
   * or on PostgreSQL a new database `omnipost_test_<random>` created on the
   * server of `DATABASE_URL` and dropped when the suite ends, so test files can
   * run in parallel.
   */
  static readonly layerTest = (kind: DatabaseKind): Layer.Layer<Database | PgClient.PgClient | SqlClient.SqlClient, unknown> =>
    kind === "pglite"
      ? Database.layerPglite()
      : Layer.effectContext(Effect.gen(function*() {
        const url = yield* makeScratchPostgres(yield* Config.Redacted("DATABASE_URL"))
        return yield* makePostgres({ url, maxConnections: 10 })
      })).pipe(Layer.provide(Reactivity.layer))
}

/**
 * A new, empty database `omnipost_test_<random>` on the PostgreSQL server of
 * `adminUrl`, dropped (its connections closed) when the scope closes: its URL.
 * Tests get a database of their own this way, so test files run in parallel;
 * a test that needs an older schema migrates it itself.
 *
 * Each statement opens its own admin connection, in a scope of its own. One
 * admin pool kept for the suite would hang the drop: its connection is closed
 * after a minute idle, and the pool opens the next one on a fiber forked into
 * its own scope, which is the one closing when the drop runs, so that fiber
 * never runs and the drop waits forever (a suite's teardown overran its hook).
 *
 * @example
 * const url = yield* makeScratchPostgres(yield* Config.Redacted("DATABASE_URL"))
 * const client = yield* PgClient.make({ url })
 */
export const makeScratchPostgres = Effect.fnUntraced(function*(adminUrl: Redacted.Redacted) {
  const admin = (statement: string) =>
    Effect.scoped(Effect.flatMap(PgClient.make({ url: adminUrl, maxConnections: 1 }), (client) => client.unsafe(statement)))
  const name = `omnipost_test_${randomBytes(6).toString("hex")}`
  yield* admin(`CREATE DATABASE ${name}`)
  // Finalizers run in reverse: the pools opened on it later close first, then the database goes.
  yield* Effect.addFinalizer(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.ignore))
  const url = new URL(Redacted.value(adminUrl))
  url.pathname = `/${name}`
  return Redacted.make(url.toString())
})

const multiplexing = (concurrency: number | undefined) => {
  const shared = Math.max(1, Math.trunc(concurrency ?? defaultMultiplex))
  return shared > 1 ? { multiplex: true, multiplexConcurrency: shared } : {}
}

const contextOf = (client: PgClient.PgClient, database: DatabaseShape) =>
  Context.make(Database, database).pipe(
    Context.add(PgClient.PgClient, client),
    Context.add(SqlClient.SqlClient, client)
  )

const migrate = (client: PgClient.PgClient) =>
  Migrations.run.pipe(Effect.provideService(SqlClient.SqlClient, client))

const makePostgres = Effect.fnUntraced(function*(options: {
  readonly url: Redacted.Redacted
  readonly maxConnections?: number | undefined
  readonly minConnections?: number | undefined
  readonly multiplex?: number | undefined
  readonly listenUrl?: Redacted.Redacted | undefined
  readonly pooler?: Pooler | undefined
}) {
  const maxConnections = options.maxConnections ?? 10
  const pooled = options.pooler === "transaction"
  const client = yield* PgClient.make({
    url: options.url,
    maxConnections,
    minConnections: Math.max(0, Math.min(maxConnections, options.minConnections ?? defaultPoolMin)),
    applicationName: "omnipost",
    // Named prepared statements live in a server session, which a transaction pooler does not keep for us.
    ...(pooled ? { prepare: false } : multiplexing(options.multiplex))
  })
  yield* migrate(client)
  // LISTEN holds a session: on its own direct connection when given, on the pool when there is no pooler, else none.
  const listener = options.listenUrl !== undefined
    ? yield* PgClient.make({ url: options.listenUrl, maxConnections: 1, minConnections: 0, applicationName: "omnipost-listen" })
    : pooled
    ? undefined
    : client
  if (listener === undefined) {
    yield* Effect.logInfo("behind a transaction pooler without OMNIPOST_DATABASE_LISTEN_URL: no LISTEN, schedulers find work by polling")
  }
  return contextOf(client, {
    kind: "postgres",
    url: options.url,
    notify: (channel, payload) => client.notify(channel, payload),
    listen: (channel) =>
      listener === undefined
        ? Effect.succeed(Stream.never)
        : listener.listen(channel).pipe(Effect.map((queue) => Stream.fromQueue(queue).pipe(Stream.map((n) => n.payload)))),
    notifications: listener === undefined ? "poll" : "listen"
  })
})

/**
 * The embedded database's directory is open in another process (a running
 * `omnipost serve`). PGlite belongs to one process: a second one would write
 * beside the first and each would lose the other's changes.
 */
export class DataDirInUse extends Data.TaggedError("DataDirInUse")<{
  readonly dataDir: string
  readonly pid: number
  readonly message: string
}> {
  readonly code = "DATA_DIR_IN_USE"
  // Entry points print its one line themselves: the runtime does not log it again with a stack.
  override readonly [Runtime.errorReported] = false
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * Takes `<dataDir>.lock` (the process id inside) for the scope, or fails with
 * `DataDirInUse` while a live process holds it; a lock left by a process
 * that died is taken over.
 */
const lockDataDir = (dataDir: string) =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const file = `${dataDir}.lock`
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const fd = openSync(file, "wx", 0o600)
          writeFileSync(fd, `${process.pid}\n`)
          closeSync(fd)
          return Effect.succeed(file)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") return Effect.die(error)
          const pid = Number.parseInt(readFileSync(file, "utf8"), 10)
          if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
            return Effect.fail(new DataDirInUse({
              dataDir,
              pid,
              message: `the data directory ${dataDir} is in use by process ${pid} (a running omnipost serve?): stop it first, or run API commands through it with --key <API key> (OMNIPOST_API_KEY)`
            }))
          }
          rmSync(file, { force: true })
        }
      }
      return Effect.die(new Error(`cannot lock ${dataDir}`))
    }),
    (file) => Effect.sync(() => rmSync(file, { force: true }))
  )

const makePglite = Effect.fnUntraced(function*(options: { readonly dataDir?: string | undefined; readonly multiplex?: number | undefined }) {
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir)
  if (dataDir !== undefined) {
    mkdirSync(dataDir, { recursive: true })
    yield* lockDataDir(dataDir)
  }
  const db = yield* Effect.acquireRelease(
    Effect.promise(() => PGlite.create(dataDir === undefined ? {} : { dataDir })),
    (db) => Effect.promise(() => db.close()).pipe(Effect.ignore)
  )
  // One connection over an in-process stream: pipelining is what lets the requests' statements share its calls.
  const client = yield* PgClient.make({
    stream: () => PgliteWire.connect(db),
    ssl: false,
    username: "postgres",
    database: "postgres",
    maxConnections: 1,
    minConnections: 1,
    ...multiplexing(options.multiplex)
  })
  yield* migrate(client)
  const hub = yield* PubSub.unbounded<{ readonly channel: string; readonly payload: string }>()
  return contextOf(client, {
    kind: "pglite",
    url: Redacted.make(`pglite:${dataDir ?? "memory"}`),
    notifications: "listen",
    notify: (channel, payload) => PubSub.publish(hub, { channel, payload }).pipe(Effect.asVoid),
    listen: (channel) =>
      PubSub.subscribe(hub).pipe(
        Effect.map((subscription) =>
          Stream.fromSubscription(subscription).pipe(
            Stream.filter((n) => n.channel === channel),
            Stream.map((n) => n.payload)
          )
        )
      )
  })
})

