/**
 * How a FILE_UPLOAD video is cut into chunks, per TikTok's media transfer
 * guide (https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide,
 * platform-specs §5.3):
 *
 * - each chunk is at least 5 MB and at most 64 MB;
 * - a file under 5 MB goes as one chunk with `chunk_size = video_size`;
 *   a file over 64 MB must be chunked;
 * - `total_chunk_count = floor(video_size / chunk_size)`: the trailing bytes
 *   ride on the last chunk, which may therefore exceed `chunk_size`, up to 128 MB;
 * - between 1 and 1000 chunks, uploaded sequentially, each a
 *   `Content-Range: bytes first-last/video_size` PUT.
 */
export const MB = 1024 * 1024
export const minChunkBytes = 5 * MB
export const maxChunkBytes = 64 * MB
export const maxLastChunkBytes = 128 * MB
export const maxChunkCount = 1000
export const defaultChunkBytes = 10 * MB

/** One chunk: bytes `first`..`last` inclusive. */
export interface Chunk {
  readonly index: number
  readonly first: number
  readonly last: number
}

export interface Plan {
  readonly videoSize: number
  readonly chunkSize: number
  readonly totalChunkCount: number
}

/** The plan for `videoSize` bytes, aiming at `preferred` bytes a chunk (clamped to 5–64 MB). */
export const plan = (videoSize: number, preferred: number = defaultChunkBytes): Plan => {
  if (!Number.isSafeInteger(videoSize) || videoSize <= 0) throw new RangeError(`video size must be a positive integer, got ${videoSize}`)
  if (videoSize <= maxChunkBytes && (videoSize < minChunkBytes || videoSize <= preferred)) {
    return { videoSize, chunkSize: videoSize, totalChunkCount: 1 }
  }
  let chunkSize = Math.min(maxChunkBytes, Math.max(minChunkBytes, Math.floor(preferred)))
  chunkSize = Math.max(chunkSize, Math.ceil(videoSize / maxChunkCount))
  return { videoSize, chunkSize, totalChunkCount: Math.floor(videoSize / chunkSize) }
}

/** The chunks of a plan, in upload order; the last one absorbs the trailing bytes. */
export const chunks = (p: Plan): ReadonlyArray<Chunk> =>
  Array.from({ length: p.totalChunkCount }, (_, index) => ({
    index,
    first: index * p.chunkSize,
    last: index === p.totalChunkCount - 1 ? p.videoSize - 1 : (index + 1) * p.chunkSize - 1
  }))

/** `bytes first-last/total`, the `Content-Range` of a chunk. */
export const contentRange = (chunk: Chunk, videoSize: number): string => `bytes ${chunk.first}-${chunk.last}/${videoSize}`

/**
 * Why a declared plan breaks TikTok's rules, or `undefined` when it keeps
 * them. The fake refuses init with `invalid_param` and this reason.
 */
export const violation = (videoSize: number, chunkSize: number, totalChunkCount: number): string | undefined => {
  if (!Number.isSafeInteger(videoSize) || videoSize <= 0) return "video_size must be a positive integer"
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) return "chunk_size must be a positive integer"
  if (!Number.isSafeInteger(totalChunkCount) || totalChunkCount < 1 || totalChunkCount > maxChunkCount) {
    return `total_chunk_count must be between 1 and ${maxChunkCount}`
  }
  if (videoSize < minChunkBytes) {
    return chunkSize === videoSize && totalChunkCount === 1 ? undefined : "a video under 5 MB goes as one chunk with chunk_size = video_size"
  }
  if (videoSize > maxChunkBytes && chunkSize >= videoSize) return "a video over 64 MB must be chunked"
  if (chunkSize < minChunkBytes || chunkSize > maxChunkBytes) return "chunk_size must be between 5 MB and 64 MB"
  if (totalChunkCount !== Math.floor(videoSize / chunkSize)) return "total_chunk_count must be floor(video_size / chunk_size)"
  if (videoSize - (totalChunkCount - 1) * chunkSize > maxLastChunkBytes) return "the last chunk may not exceed 128 MB"
  return undefined
}
