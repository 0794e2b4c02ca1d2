/**
 * A real S3-compatible server for tests: `s3rver` (npm) on an ephemeral port
 * of 127.0.0.1 with its files in a temporary directory, one bucket, the
 * credentials S3RVER/S3RVER. A front handler adds what s3rver lacks and S3
 * does: `AbortMultipartUpload` (204, the upload's parts dropped; 404
 * NoSuchUpload for an unknown id; counted, so tests see an abandoned upload
 * aborted and no parts left), and the check of presigned URLs' SigV4 query
 * signatures and expiry (s3rver checks only V2 signatures): a changed URL or
 * an expired one is a 403, as on S3.
 */
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3"
import { Effect } from "effect"
import { createHash, createHmac } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
// @ts-expect-error s3rver ships no types
import S3rver from "s3rver"

export interface S3Fake {
  readonly endpoint: string
  readonly bucket: string
  /** The environment that points a server's media store at this fake (`prefix` under the bucket). */
  readonly env: (prefix: string, urls?: "worker" | "presigned") => Record<string, string>
  /** The objects under `prefix`, as the S3 API lists them. */
  readonly objects: (prefix: string) => Promise<ReadonlyArray<{ readonly key: string; readonly size: number }>>
  /** Multipart uploads neither completed nor aborted. */
  readonly pendingUploads: () => ReadonlyArray<string>
  /** How many `AbortMultipartUpload` requests were served. */
  readonly aborts: () => number
}

const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }

const s3Error = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`

/** RFC 3986 encoding, as SigV4's canonical query wants it. */
const encode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/**
 * Checks a presigned (query-signed) SigV4 request as S3 does: the signature
 * over the canonical request (method, path, query but the signature, the
 * signed headers, UNSIGNED-PAYLOAD), and the expiry. The refusal, or undefined.
 */
const checkPresigned = (
  method: string,
  url: URL,
  headers: Readonly<Record<string, string | Array<string> | undefined>>,
  now: number
): { readonly code: string; readonly message: string } | undefined => {
  const q = url.searchParams
  const [accessKeyId, date, region, service] = (q.get("X-Amz-Credential") ?? "").split("/")
  if (q.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256" || accessKeyId !== credentials.accessKeyId) {
    return { code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records." }
  }
  const amzDate = q.get("X-Amz-Date") ?? ""
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"))
  if (Number.isNaN(signedAt) || signedAt + Number(q.get("X-Amz-Expires") ?? "0") * 1000 < now) {
    return { code: "AccessDenied", message: "Request has expired" }
  }
  const signedHeaders = q.get("X-Amz-SignedHeaders") ?? ""
  const canonicalQuery = [...q.entries()]
    .filter(([key]) => key !== "X-Amz-Signature")
    .map(([key, value]) => `${encode(key)}=${encode(value)}`)
    .sort()
    .join("&")
  const canonicalHeaders = signedHeaders.split(";").map((name) => `${name}:${String(headers[name] ?? "").trim()}\n`).join("")
  const canonicalRequest = [method, url.pathname, canonicalQuery, canonicalHeaders, signedHeaders, "UNSIGNED-PAYLOAD"].join("\n")
  const scope = `${date}/${region}/${service}/aws4_request`
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonicalRequest).digest("hex")].join("\n")
  let key: Buffer = createHmac("sha256", `AWS4${credentials.secretAccessKey}`).update(date ?? "").digest()
  for (const part of [region, service, "aws4_request"]) key = createHmac("sha256", key).update(part ?? "").digest()
  const expected = createHmac("sha256", key).update(toSign).digest("hex")
  return expected === q.get("X-Amz-Signature")
    ? undefined
    : { code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided." }
}

/** Starts the fake for the scope. */
export const makeS3Fake = (bucket = "omnipost-media"): Effect.Effect<S3Fake, never, import("effect").Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const directory = mkdtempSync(join(tmpdir(), "omnipost-s3-"))
      const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: bucket }] })
      await s3rver.configureBuckets()
      const handle = s3rver.callback()
      const uploadsDir = join(directory, bucket, "._S3rver_uploads")
      let aborts = 0
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://local")
        const uploadId = url.searchParams.get("uploadId")
        if (req.method === "DELETE" && uploadId !== null) {
          const dir = join(uploadsDir, uploadId.replace(/[^a-f0-9]/g, ""))
          req.resume()
          if (!existsSync(dir)) {
            res.writeHead(404, { "content-type": "application/xml" })
            res.end(s3Error("NoSuchUpload", "The specified upload does not exist."))
            return
          }
          rmSync(dir, { recursive: true, force: true })
          aborts++
          res.writeHead(204)
          res.end()
          return
        }
        if (url.searchParams.has("X-Amz-Signature")) {
          const refused = checkPresigned(req.method ?? "GET", url, req.headers, Date.now())
          if (refused !== undefined) {
            req.resume()
            res.writeHead(403, { "content-type": "application/xml" })
            res.end(s3Error(refused.code, refused.message))
            return
          }
        }
        handle(req, res)
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials })
      const fake: S3Fake = {
        endpoint,
        bucket,
        env: (prefix, urls = "worker") => ({
          OMNIPOST_MEDIA_STORE: `s3://${bucket}/${prefix}`,
          OMNIPOST_S3_ENDPOINT: endpoint,
          OMNIPOST_S3_REGION: "us-east-1",
          OMNIPOST_S3_ACCESS_KEY_ID: credentials.accessKeyId,
          OMNIPOST_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          OMNIPOST_S3_FORCE_PATH_STYLE: "true",
          OMNIPOST_MEDIA_URLS: urls
        }),
        objects: async (prefix) => {
          const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix.replace(/\/?$/, "/") }))
          return (listed.Contents ?? []).map((object) => ({ key: object.Key!, size: object.Size ?? 0 }))
        },
        pendingUploads: () => existsSync(uploadsDir) ? readdirSync(uploadsDir) : [],
        aborts: () => aborts
      }
      return { fake, server, client, directory, s3rver }
    }),
    ({ client, directory, server }) =>
      Effect.promise(async () => {
        client.destroy()
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        rmSync(directory, { recursive: true, force: true })
      })
  ).pipe(Effect.map(({ fake }) => fake))
