/**
 * The fake's blobs and videos: uploadBlob on the PDS (types sniffed from the
 * bytes), and the video service's upload, job and quota methods.
 */
import { Sniff } from "@omnipost/platform-kit"
import { cidFor, sha256 } from "./ids.js"
import type { FakeState, VideoJob } from "./model.js"
import type { Sessions } from "./sessions.js"
import { type Answer, consumeBody, fail, type Incoming, invalid } from "./xrpc.js"

export class Blobs {
  constructor(private readonly state: FakeState, private readonly sessions: Sessions) {}

  /**
   * As pds/src/api/com/atproto/repo/uploadBlob.ts: an access token or a
   * service token for uploadBlob; any body up to the upload limit (413
   * `PayloadTooLarge` above it, from xrpc-server). Limits of the embed that
   * will use the blob are checked when the record is created, not here.
   */
  async uploadBlob(request: Incoming): Promise<Answer> {
    const account = this.sessions.isServiceToken(request)
      ? this.state.accounts.get(this.sessions.serviceAuth(request, this.state.serviceDid, "com.atproto.repo.uploadBlob").iss)!
      : this.sessions.authenticate(request)
    const declared = (request.headers["content-type"] ?? "").split(";")[0]!.trim()
    if (declared === "") invalid("Request encoding (Content-Type) required but not provided")
    const body = await consumeBody(request, this.state.options.maxImageBytes)
    if (body.size === 0) invalid("Request body is empty")
    if (body.size > this.state.options.maxBlobBytes) fail(413, "PayloadTooLarge", "request entity too large")
    // The PDS keeps the type its sniffer (file-type) finds in the bytes, the declared one only when it finds none.
    const mimeType = Sniff.sniff(body.head)?.mimeType ?? declared
    const cid = cidFor("raw", body.digest)
    this.state.blobs.set(cid, { cid, did: account.did, mimeType, size: body.size, bytes: body.bytes })
    this.state.heldBlobs.add(`${account.did} ${cid}`)
    return { status: 200, body: { blob: { $type: "blob", ref: { $link: cid }, mimeType, size: body.size } } }
  }

  async uploadVideo(request: Incoming, query: URLSearchParams): Promise<Answer> {
    // The service stores the processed video on the user's PDS with this token: the PDS's checks apply.
    const service = this.sessions.serviceAuth(request, this.state.serviceDid, "com.atproto.repo.uploadBlob")
    const did = query.get("did") ?? invalid("Params must have the property \"did\"")
    const name = query.get("name") ?? invalid("Params must have the property \"name\"")
    if (did !== service.iss) fail(401, "InvalidToken", "did does not match the service token issuer")
    const mimeType = (request.headers["content-type"] ?? "").split(";")[0]!.trim()
    if (!mimeType.startsWith("video/")) invalid(`Unsupported video type ${mimeType || "(none)"}`)
    if (request.headers["content-length"] === undefined) invalid("Content-Length is required")
    const body = await consumeBody(request, 0)
    if (body.size === 0) invalid("Request body is empty")
    if (body.size > this.state.options.maxVideoBytes) {
      fail(400, "BlobTooLarge", `Video is too large: ${body.size} bytes, the maximum is ${this.state.options.maxVideoBytes}`)
    }
    const quota = this.remainingQuota(did)
    if (quota.videos <= 0 || quota.bytes < body.size) {
      fail(400, "UploadLimitExceeded", "You have reached your daily upload limit")
    }
    const blobCid = cidFor("raw", body.digest)
    const existing = [...this.state.videoJobs.values()].find((job) => job.did === did && job.blobCid === blobCid && job.state !== "JOB_STATE_FAILED")
    if (existing !== undefined) {
      return { status: 409, body: { error: "already_exists", message: "Video already processed", jobId: existing.jobId } }
    }
    const jobId = `${Buffer.from(sha256(`${blobCid}:${++this.state.jobCounter}`)).toString("hex").slice(0, 26)}`
    const job: VideoJob = {
      jobId,
      did,
      name,
      size: body.size,
      blobCid,
      createdAt: this.state.now(),
      polls: 0,
      state: "JOB_STATE_CREATED",
      failure: this.state.failNextVideoJobs.shift()
    }
    this.state.videoJobs.set(jobId, job)
    return { status: 200, body: { jobId, did, state: job.state, progress: 0 } }
  }

  /** What is left of an account's daily video quota (jobs count once uploaded, failed or not). */
  remainingQuota(did: string): { readonly videos: number; readonly bytes: number } {
    const since = this.state.now() - 24 * 3600 * 1000
    const jobs = [...this.state.videoJobs.values()].filter((job) => job.did === did && job.createdAt >= since)
    return {
      videos: this.state.options.videoQuota.videos - jobs.length,
      bytes: this.state.options.videoQuota.bytes - jobs.reduce((total, job) => total + job.size, 0)
    }
  }

  getJobStatus(query: URLSearchParams): Answer {
    const jobId = query.get("jobId") ?? invalid("Params must have the property \"jobId\"")
    const job = this.state.videoJobs.get(jobId)
    if (job === undefined) fail(404, "NotFound", "Job not found")
    job!.polls++
    if (job!.state !== "JOB_STATE_COMPLETED" && job!.state !== "JOB_STATE_FAILED") {
      if (job!.polls > this.state.options.videoProcessingPolls) {
        if (job!.failure !== undefined) {
          job!.state = "JOB_STATE_FAILED"
        } else {
          job!.state = "JOB_STATE_COMPLETED"
          this.state.blobs.set(job!.blobCid, { cid: job!.blobCid, did: job!.did, mimeType: "video/mp4", size: job!.size })
          this.state.heldBlobs.add(`${job!.did} ${job!.blobCid}`)
        }
      } else {
        job!.state = "JOB_STATE_ENCODING"
      }
    }
    const progress = job!.state === "JOB_STATE_COMPLETED" ? 100 : Math.min(99, Math.round((job!.polls / (this.state.options.videoProcessingPolls + 1)) * 100))
    return {
      status: 200,
      body: {
        jobStatus: {
          jobId: job!.jobId,
          did: job!.did,
          state: job!.state,
          progress,
          ...(job!.state === "JOB_STATE_COMPLETED"
            ? { blob: { $type: "blob", ref: { $link: job!.blobCid }, mimeType: "video/mp4", size: job!.size } }
            : {}),
          ...(job!.state === "JOB_STATE_FAILED" ? { error: "ProcessingFailed", message: job!.failure } : {})
        }
      }
    }
  }

  /** app.bsky.video.getUploadLimits: what is left of the caller's daily quota. */
  getUploadLimits(request: Incoming): Answer {
    const service = this.sessions.serviceAuth(request, this.state.videoServiceDid, "app.bsky.video.getUploadLimits")
    const { bytes, videos } = this.remainingQuota(service.iss)
    return {
      status: 200,
      body: {
        canUpload: videos > 0 && bytes > 0,
        remainingDailyVideos: videos,
        remainingDailyBytes: bytes,
        ...(videos > 0 && bytes > 0 ? {} : { error: "UploadLimitExceeded", message: "You have reached your daily upload limit" })
      }
    }
  }
}
