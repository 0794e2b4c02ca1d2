/**
 * `omnipost accounts add|list`, `post` and `status`: connecting accounts and
 * publishing, through a running server (`--url`, `--key`).
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { call, progressBar, upload } from "./Client.js"
import { connection, key, print, url } from "./Connection.js"
import { describeFile, preflight } from "./Preflight.js"

const accountsAdd = Command.make("add", {
  platform: Flag.String("platform").pipe(Flag.withDescription("A platform id (the Platforms line of `omnipost serve` lists them)")),
  credentials: Flag.String("credentials").pipe(
    Flag.withDescription("The credentials as JSON, e.g. {\"identifier\":\"alice.bsky.social\",\"appPassword\":\"…\"}")
  ),
  url,
  key
}, (flags) =>
  Effect.gen(function*() {
    const credentials = yield* Effect.try({
      try: () => JSON.parse(flags.credentials) as unknown,
      catch: () => new Error("--credentials must be JSON")
    })
    yield* print(yield* call(yield* connection(flags), "POST", "/v1/accounts", { platform: flags.platform, credentials }))
  })).pipe(Command.withDescription("Connect an account (the credentials are verified first)"))

const accountsList = Command.make("list", {
  platform: Flag.String("platform").pipe(Flag.optional),
  url,
  key
}, (flags) =>
  Effect.gen(function*() {
    const query = Option.isSome(flags.platform) ? `?platform=${encodeURIComponent(flags.platform.value)}` : ""
    yield* print(yield* call(yield* connection(flags), "GET", `/v1/accounts${query}`))
  })).pipe(Command.withDescription("List connected accounts"))

export const accountsCommand = Command.make("accounts").pipe(
  Command.withDescription("Connected accounts"),
  Command.withSubcommands([accountsAdd, accountsList])
)

export const postCommand = Command.make("post", {
  text: Argument.String("text").pipe(Argument.withDescription("The post's text")),
  files: Flag.String("file").pipe(Flag.withDescription("A file to attach (repeatable)"), Flag.atLeast(0)),
  accounts: Flag.String("account").pipe(Flag.withDescription("An account id to publish to (repeatable)"), Flag.atLeast(1)),
  at: Flag.String("at").pipe(
    Flag.withDescription("When: an ISO instant, or a local time with --timezone (default: now)"),
    Flag.optional
  ),
  timezone: Flag.String("timezone").pipe(Flag.withDescription("IANA time zone for --at"), Flag.optional),
  draft: Flag.Boolean("draft").pipe(Flag.withDescription("Save as a draft"), Flag.withDefault(false)),
  url,
  key
}, (flags) =>
  Effect.gen(function*() {
    const conn = yield* connection(flags)
    const when = {
      ...(flags.draft ? { status: "draft" } : {}),
      ...(Option.isSome(flags.at) ? { scheduledAt: flags.at.value } : {}),
      ...(Option.isSome(flags.timezone) ? { timezone: flags.timezone.value } : {})
    }
    // Files are checked against the destinations' rules before any upload.
    if (flags.files.length > 0) {
      const facts = yield* Effect.forEach(flags.files, describeFile)
      yield* preflight(conn, { text: flags.text, accounts: flags.accounts, extra: when }, facts)
    }
    const mediaIds: Array<string> = []
    for (const file of flags.files) {
      const tty = process.stderr.isTTY
      let last = 0
      const media = yield* upload(conn, file, (sent, total) => {
        const now = Date.now()
        if (sent === total || now - last > 100) {
          last = now
          const line = progressBar(sent, total, file)
          process.stderr.write(tty ? `\r${line}` : `${line}\n`)
        }
      })
      if (tty) process.stderr.write("\n")
      mediaIds.push(media.id)
    }
    const post = yield* call(conn, "POST", "/v1/posts", {
      content: { text: flags.text, ...(mediaIds.length > 0 ? { media: mediaIds.map((mediaId) => ({ mediaId })) } : {}) },
      destinations: flags.accounts.map((accountId) => ({ accountId })),
      ...when
    })
    yield* print(post)
  })).pipe(Command.withDescription("Create a post (files upload first, with progress)"))

export const statusCommand = Command.make("status", { post: Argument.String("post"), url, key }, (flags) =>
  Effect.gen(function*() {
    const post = yield* call(yield* connection(flags), "GET", `/v1/posts/${encodeURIComponent(flags.post)}`)
    const lines = [`${post.id}  ${post.status}${post.scheduledAt ? `  (scheduled ${post.scheduledAt})` : ""}`]
    for (const d of post.destinations as ReadonlyArray<any>) {
      lines.push(
        `  ${d.platform.padEnd(10)} ${d.status.padEnd(11)} attempts ${d.attempts}` +
          (d.url ? `  ${d.url}` : "") +
          (d.nextRetryAt ? `  next retry ${d.nextRetryAt}` : "") +
          (d.lastError ? `  ${d.lastError.code}: ${d.lastError.message}` : "")
      )
    }
    yield* Console.log(lines.join("\n"))
  })).pipe(Command.withDescription("Show a post and every destination's status"))
