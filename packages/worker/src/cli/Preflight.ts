/**
 * `omnipost post --file …` checks the files against the destinations' rules
 * before uploading anything: each file's type is judged from its first bytes
 * (the kit's `Sniff`, as the server judges an upload), its size read from
 * disk, and the post is sent to `POST /v1/posts/validate` with those facts
 * (the media described, no bytes), so a 300 MB video bound for a platform
 * that takes 50 MB is refused in a second, with the platform's limit, not
 * after the upload.
 */
import { Sniff } from "../internal/platformKit.js"
import { Effect } from "effect"
import { open, stat } from "node:fs/promises"
import { basename } from "node:path"
import { ApiCallFailed, call, type Connection } from "./Client.js"

/** A file as the server will describe it once uploaded. */
export interface FileFacts {
  readonly file: string
  readonly kind: string
  readonly mimeType: string
  readonly sizeBytes: number
  readonly width?: number | undefined
  readonly height?: number | undefined
}

/** Size from disk, type (and image dimensions) from the first bytes. */
export const describeFile = (file: string): Effect.Effect<FileFacts, ApiCallFailed> =>
  Effect.tryPromise({
    try: async () => {
      const info = await stat(file)
      if (!info.isFile()) throw new ApiCallFailed({ status: 0, code: "FILE_NOT_FOUND", message: `${file} is not a file` })
      const handle = await open(file, "r")
      try {
        const head = new Uint8Array(Math.min(info.size, Sniff.sniffBytes))
        await handle.read(head, 0, head.byteLength, 0)
        const sniffed = Sniff.sniff(head)
        if (sniffed === undefined) {
          throw new ApiCallFailed({
            status: 0,
            code: "UNSUPPORTED_MEDIA_TYPE",
            message: `${file} is not an image, GIF, video or document of a supported type (${Sniff.supportedNames.join(", ")})`
          })
        }
        return {
          file,
          kind: sniffed.kind,
          mimeType: sniffed.mimeType,
          sizeBytes: info.size,
          width: sniffed.width,
          height: sniffed.height
        }
      } finally {
        await handle.close()
      }
    },
    catch: (error) =>
      error instanceof ApiCallFailed
        ? error
        : new ApiCallFailed({ status: 0, code: "FILE_NOT_FOUND", message: `cannot read ${file}: ${(error as Error).message}` })
  })

/** A validation issue as the API reports it. */
interface Issue {
  readonly message: string
  readonly path?: ReadonlyArray<string | number>
  readonly platform?: string
}

/**
 * Validates the post the CLI is about to create, with each file described in
 * place of its upload. Fails with `VALIDATION_FAILED` naming each refused
 * file (and every other issue) before a byte is uploaded.
 */
export const preflight = (
  connection: Connection,
  post: { readonly text: string; readonly accounts: ReadonlyArray<string>; readonly extra: Record<string, unknown> },
  files: ReadonlyArray<FileFacts>
): Effect.Effect<void, ApiCallFailed> =>
  Effect.gen(function*() {
    const media = files.map(({ file: _file, ...facts }) => ({
      ...Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== undefined)),
      // The bytes are not sent for a dry run: the rules judge the described type and size.
      source: { _tag: "bytes", data: "" }
    }))
    const result = yield* call(connection, "POST", "/v1/posts/validate", {
      content: { text: post.text, ...(media.length > 0 ? { media } : {}) },
      destinations: post.accounts.map((accountId) => ({ accountId })),
      ...post.extra
    })
    if (result?.valid !== false) return
    const issues: ReadonlyArray<Issue> = result.issues ?? []
    const name = (issue: Issue) => {
      const path = issue.path ?? []
      const index = path[0] === "content" && path[1] === "media" && typeof path[2] === "number" ? path[2] : undefined
      return index !== undefined && files[index] !== undefined ? `${basename(files[index]!.file)}: ` : ""
    }
    return yield* new ApiCallFailed({
      status: 400,
      code: "VALIDATION_FAILED",
      message: `nothing was uploaded: ${issues.map((issue) => `${name(issue)}${issue.message}`).join("; ")}`,
      details: { issues }
    })
  })
