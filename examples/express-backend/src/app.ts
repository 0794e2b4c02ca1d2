/**
 * An Express 5 app that publishes through Omnipost's Promise facade.
 *
 *   POST /posts              validate, then publish now: 201 published,
 *                            207 partially failed, 502 every destination failed,
 *                            400 with every validation issue
 *   POST /posts/validate     the validation report only (200)
 *   GET  /posts/:id          the last report of a post
 *   POST /posts/:id/retry    publish the failed destinations again
 *   GET  /platforms          what each platform supports
 *
 * Posts are kept in memory: a real backend keeps `report.post` in its database.
 */
import express, { type ErrorRequestHandler, type Response } from "express"
import type { FanOut, Omnipost } from "@omnipost/core"

export interface AppOptions {
  readonly omnipost: Omnipost.Omnipost
  /** Sees every publishing event (attempt started, failed with a retry time, published, failed). */
  readonly onProgress?: ((event: FanOut.PublishEvent) => void) | undefined
}

const statusCodeOf = (report: Omnipost.PublishReport): number => {
  switch (report.status) {
    case "published":
      return 201
    case "partially_failed":
      return 207
    case "failed":
      return 502
    case "invalid":
      return 400
    case "error":
      return report.error.code === "INVALID_STATUS_TRANSITION" ? 409 : 500
  }
}

/** What the API answers: the report without the stored post (which has the same data, for storage). */
const answer = (response: Response, report: Omnipost.PublishReport) => {
  if (report.status === "invalid") {
    return response.status(400).json({
      error: { code: "INVALID_POST", message: `the post has ${report.issues.length} problem(s); see issues` },
      issues: report.issues
    })
  }
  if (report.status === "error") return response.status(statusCodeOf(report)).json({ error: report.error })
  return response.status(statusCodeOf(report)).json({
    id: report.postId,
    status: report.status,
    destinations: report.destinations
  })
}

export const createApp = ({ omnipost, onProgress }: AppOptions) => {
  const posts = new Map<string, Omnipost.PublishReport>()
  const app = express()
  app.use(express.json({ limit: "1mb" }))

  app.post("/posts/validate", (request, response) => {
    response.json(omnipost.validate(request.body))
  })

  app.post("/posts", async (request, response) => {
    const report = await omnipost.publish(request.body, { onProgress })
    if (report.status !== "invalid" && report.status !== "error") posts.set(report.postId, report)
    answer(response, report)
  })

  app.get("/posts/:id", (request, response) => {
    const report = posts.get(request.params.id)
    if (report === undefined || report.status === "invalid" || report.status === "error") {
      return response.status(404).json({ error: { code: "POST_NOT_FOUND", message: `no post ${request.params.id}` } })
    }
    answer(response, report)
  })

  app.post("/posts/:id/retry", async (request, response) => {
    const previous = posts.get(request.params.id)
    if (previous === undefined || previous.status === "invalid" || previous.status === "error") {
      return response.status(404).json({ error: { code: "POST_NOT_FOUND", message: `no post ${request.params.id}` } })
    }
    const report = await omnipost.retry(previous.post, { onProgress })
    if (report.status !== "invalid" && report.status !== "error") posts.set(report.postId, report)
    answer(response, report)
  })

  app.get("/platforms", (_request, response) => {
    response.json(omnipost.platforms())
  })

  // Malformed JSON and anything unexpected: a typed error body, never an HTML page.
  const errors: ErrorRequestHandler = (error, _request, response, _next) => {
    if (error?.type === "entity.parse.failed") {
      return response.status(400).json({ error: { code: "INVALID_JSON", message: `the body is not JSON: ${error.message}` } })
    }
    if (error?.type === "entity.too.large") {
      return response.status(413).json({ error: { code: "BODY_TOO_LARGE", message: "the body is over 1 MB" } })
    }
    response.status(500).json({ error: { code: "INTERNAL_ERROR", message: "unexpected error" } })
  }
  app.use(errors)
  return app
}
