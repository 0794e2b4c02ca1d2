/**
 * The fake's repo records (com.atproto.repo.*Record): `app.bsky.feed.post`
 * checked against its lexicon (text, facets, tags, replies, embeds and the
 * blobs and posts they cite), created with TID keys, listed and deleted.
 */
import { cidFor, isTid, sha256 } from "./ids.js"
import type { FakeAccount, FakeState, StoredRecord } from "./model.js"
import { type Answer, fail, graphemes, invalid, isDatetime, isObject, isUri, utf8 } from "./xrpc.js"

export class Records {
  constructor(private readonly state: FakeState) {}

  findRecord(repo: string, collection: string, rkey: string): StoredRecord | undefined {
    const did = this.state.accounts.has(repo) ? repo : this.state.accountByHandle(repo)?.did
    return this.state.records.find((record) => record.repo === did && record.collection === collection && record.rkey === rkey)
  }

  recordByUri(uri: string): StoredRecord | undefined {
    return this.state.records.find((record) => record.uri === uri)
  }

  repoOf(account: FakeAccount, repo: unknown): void {
    if (repo !== account.did && repo !== account.handle) {
      fail(400, "InvalidRequest", `Invalid repo: ${String(repo)} is not the authenticated account`)
    }
  }

  /**
   * A blob in a record, in the PDS's order: the lexicon's `accept` and
   * `maxSize` against the ref as written (@atproto/lex-schema's messages), then
   * the stored blob (pds/src/actor-store/blob/transactor.ts: `BlobNotFound`,
   * `InvalidMimeType`, `InvalidSize` when the ref does not match what was stored).
   */
  checkBlobRef(path: string, value: unknown, account: FakeAccount, accept: string, maxSize: number): void {
    const prefix = "Invalid app.bsky.feed.post record:"
    if (!isObject(value) || value.$type !== "blob" || !isObject(value.ref) || typeof value.ref.$link !== "string") {
      invalid(`${prefix} ${path} should be a blob ref`)
    }
    const ref = value as { ref: { $link: string }; mimeType?: unknown; size?: unknown }
    if (typeof ref.mimeType !== "string" || !Number.isInteger(ref.size)) invalid(`${prefix} ${path} must have "mimeType" and "size"`)
    const mimeType = ref.mimeType as string
    const size = ref.size as number
    const accepted = accept.endsWith("/*") ? mimeType.startsWith(accept.slice(0, -1)) : mimeType === accept
    if (!accepted) invalid(`${prefix} Expected "${accept}" (got "${mimeType}") at ${path}/mimeType`)
    if (size > maxSize) invalid(`${prefix} blob too big (maximum ${maxSize}, got ${size}) at ${path}`)
    const blob = this.state.blobs.get(ref.ref.$link)
    if (blob === undefined || !this.state.heldBlobs.has(`${account.did} ${ref.ref.$link}`)) fail(400, "BlobNotFound", `Could not find blob: ${ref.ref.$link}`)
    if (mimeType !== blob!.mimeType) {
      fail(400, "InvalidMimeType", `Referenced Mimetype does not match stored blob. Expected: ${blob!.mimeType}, Got: ${mimeType}`)
    }
    if (size !== blob!.size) fail(400, "InvalidSize", `Referenced Size does not match stored blob. Expected: ${blob!.size}, Got: ${size}`)
  }

  checkStrongRef(path: string, value: unknown): StoredRecord {
    if (!isObject(value) || typeof value.uri !== "string" || typeof value.cid !== "string") {
      return invalid(`Invalid app.bsky.feed.post record: ${path} must have the properties "uri" and "cid"`)
    }
    const record = this.recordByUri(value.uri)
    if (record === undefined) return invalid(`${path}: the post ${value.uri} does not exist`)
    if (record.cid !== value.cid) return invalid(`${path}: the cid of ${value.uri} is ${record.cid}, not ${value.cid}`)
    return record
  }

  /** Lexicon checks of `app.bsky.feed.post` (plus existence of referenced blobs and posts). */
  checkPost(record: Record<string, unknown>, account: FakeAccount): void {
    const prefix = "Invalid app.bsky.feed.post record:"
    if (record.$type !== undefined && record.$type !== "app.bsky.feed.post") invalid(`${prefix} Record/$type must be app.bsky.feed.post`)
    if (typeof record.text !== "string") invalid(`${prefix} Record must have the property "text"`)
    const text = record.text as string
    if (utf8(text) > 3000) invalid(`${prefix} Record/text must not be longer than 3000 characters`)
    if (graphemes(text) > 300) invalid(`${prefix} Record/text must not be longer than 300 graphemes`)
    if (!isDatetime(record.createdAt)) invalid(`${prefix} Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)`)
    const textBytes = utf8(text)
    // Lexicons app.bsky.richtext.facet#tag and app.bsky.feed.post tags: maxGraphemes 64, maxLength 640 (UTF-8 bytes).
    const checkTag = (path: string, tag: string) => {
      if (graphemes(tag) > 64) invalid(`${prefix} grapheme too big (maximum 64, got ${graphemes(tag)}) at ${path}`)
      if (utf8(tag) > 640) invalid(`${prefix} string too big (maximum 640, got ${utf8(tag)}) at ${path}`)
    }
    if (record.facets !== undefined) {
      if (!Array.isArray(record.facets)) invalid(`${prefix} Record/facets must be an array`)
      for (const [index, facet] of (record.facets as Array<unknown>).entries()) {
        const path = `Record/facets/${index}`
        if (!isObject(facet) || !isObject(facet.index)) invalid(`${prefix} ${path} must have the property "index"`)
        const { byteEnd, byteStart } = (facet as { index: { byteStart?: unknown; byteEnd?: unknown } }).index
        if (!Number.isInteger(byteStart) || !Number.isInteger(byteEnd) || (byteStart as number) < 0 || (byteEnd as number) < 0) {
          invalid(`${prefix} ${path}/index/byteStart and byteEnd must be non-negative integers`)
        }
        if ((byteStart as number) > (byteEnd as number) || (byteEnd as number) > textBytes) {
          invalid(`${prefix} ${path}/index [${String(byteStart)}, ${String(byteEnd)}) is outside the text (${textBytes} bytes)`)
        }
        const features = (facet as { features?: unknown }).features
        if (!Array.isArray(features) || features.length === 0) invalid(`${prefix} ${path}/features must be a non-empty array`)
        for (const feature of features as Array<unknown>) {
          if (!isObject(feature)) invalid(`${prefix} ${path}/features must hold objects`)
          const typed = feature as Record<string, unknown>
          switch (typed.$type) {
            case "app.bsky.richtext.facet#mention":
              if (typeof typed.did !== "string" || !typed.did.startsWith("did:")) invalid(`${prefix} ${path} mention/did must be a did`)
              break
            case "app.bsky.richtext.facet#link":
              if (!isUri(typed.uri)) invalid(`${prefix} ${path} link/uri must be a uri`)
              break
            case "app.bsky.richtext.facet#tag":
              if (typeof typed.tag !== "string") invalid(`${prefix} ${path} tag/tag must be a string`)
              checkTag(`${path}/features/tag`, typed.tag as string)
              break
            default:
              invalid(`${prefix} ${path} has an unknown feature type ${String(typed.$type)}`)
          }
        }
      }
    }
    if (record.langs !== undefined && (!Array.isArray(record.langs) || record.langs.length > 3)) {
      invalid(`${prefix} Record/langs must not have more than 3 elements`)
    }
    if (record.tags !== undefined && (!Array.isArray(record.tags) || record.tags.length > 8)) {
      invalid(`${prefix} Record/tags must not have more than 8 elements`)
    }
    for (const [index, tag] of ((record.tags ?? []) as Array<unknown>).entries()) {
      if (typeof tag !== "string") invalid(`${prefix} Record/tags/${index} must be a string`)
      checkTag(`Record/tags/${index}`, tag as string)
    }
    if (record.reply !== undefined) {
      if (!isObject(record.reply)) invalid(`${prefix} Record/reply must be an object`)
      const reply = record.reply as Record<string, unknown>
      const root = this.checkStrongRef("Record/reply/root", reply.root)
      const parent = this.checkStrongRef("Record/reply/parent", reply.parent)
      if (isObject(root.value.reply)) invalid(`Record/reply/root: ${root.uri} is itself a reply, not a thread root`)
      const parentRoot = isObject(parent.value.reply) && isObject(parent.value.reply.root) ? parent.value.reply.root.uri : parent.uri
      if (parentRoot !== root.uri) invalid(`Record/reply: the parent ${parent.uri} is not in the thread of ${root.uri}`)
    }
    if (record.embed !== undefined) {
      if (!isObject(record.embed)) invalid(`${prefix} Record/embed must be an object`)
      const embed = record.embed as Record<string, unknown>
      switch (embed.$type) {
        case "app.bsky.embed.images": {
          if (!Array.isArray(embed.images) || embed.images.length === 0) invalid(`${prefix} Record/embed/images must be a non-empty array`)
          const images = embed.images as Array<unknown>
          if (images.length > 4) invalid(`${prefix} Record/embed/images must not have more than 4 elements`)
          for (const [index, image] of images.entries()) {
            const path = `Record/embed/images/${index}`
            if (!isObject(image)) invalid(`${prefix} ${path} must be an object`)
            const typed = image as Record<string, unknown>
            if (typeof typed.alt !== "string") invalid(`${prefix} ${path} must have the property "alt"`)
            this.checkBlobRef(`${path}/image`, typed.image, account, "image/*", this.state.options.maxImageBytes)
            if (typed.aspectRatio !== undefined) {
              const ratio = typed.aspectRatio as { width?: unknown; height?: unknown }
              if (!isObject(ratio) || !Number.isInteger(ratio.width) || !Number.isInteger(ratio.height) || (ratio.width as number) < 1 || (ratio.height as number) < 1) {
                invalid(`${prefix} ${path}/aspectRatio width and height must be positive integers`)
              }
            }
          }
          break
        }
        case "app.bsky.embed.video": {
          this.checkBlobRef("Record/embed/video", embed.video, account, "video/mp4", this.state.options.maxVideoBytes)
          if (embed.alt !== undefined && (typeof embed.alt !== "string" || utf8(embed.alt) > 10_000 || graphemes(embed.alt) > 1000)) {
            invalid(`${prefix} Record/embed/alt must be at most 1000 graphemes`)
          }
          break
        }
        case "app.bsky.embed.external": {
          const external = embed.external
          if (!isObject(external) || !isUri(external.uri) || typeof external.title !== "string" || typeof external.description !== "string") {
            invalid(`${prefix} Record/embed/external must have "uri", "title" and "description"`)
          }
          const thumb = (external as Record<string, unknown>).thumb
          if (thumb !== undefined) this.checkBlobRef("Record/embed/external/thumb", thumb, account, "image/*", 1_000_000)
          break
        }
        case "app.bsky.embed.record":
          this.checkStrongRef("Record/embed/record", embed.record)
          break
        default:
          invalid(`${prefix} Record/embed must be one of app.bsky.embed.images, video, external, record; got ${String(embed.$type)}`)
      }
    }
  }

  createRecord(account: FakeAccount, body: Record<string, unknown>): Answer {
    this.repoOf(account, body.repo)
    if (body.collection !== "app.bsky.feed.post") invalid(`The fake accepts only app.bsky.feed.post records, not ${String(body.collection)}`)
    if (!isObject(body.record)) invalid("Input must have the property \"record\"")
    const record = { $type: "app.bsky.feed.post", ...(body.record as Record<string, unknown>) }
    this.checkPost(record, account)
    let rkey: string
    if (body.rkey !== undefined) {
      if (typeof body.rkey !== "string" || !isTid(body.rkey)) invalid("Invalid record key: app.bsky.feed.post keys are TIDs")
      rkey = body.rkey as string
      if (this.findRecord(account.did, "app.bsky.feed.post", rkey) !== undefined) invalid(`Record already exists: ${rkey}`)
    } else {
      rkey = this.state.nextTid()
    }
    const cid = cidFor("dag-cbor", sha256(JSON.stringify(record)))
    const uri = `at://${account.did}/app.bsky.feed.post/${rkey}`
    this.state.records.push({ uri, cid, repo: account.did, collection: "app.bsky.feed.post", rkey, value: record })
    return {
      status: 200,
      body: {
        uri,
        cid,
        commit: { cid: cidFor("dag-cbor", sha256(`commit:${uri}`)), rev: this.state.nextTid() },
        validationStatus: "valid"
      }
    }
  }

  deleteRecord(account: FakeAccount, body: Record<string, unknown>): Answer {
    this.repoOf(account, body.repo)
    if (typeof body.collection !== "string" || typeof body.rkey !== "string") invalid("Input must have the properties \"collection\" and \"rkey\"")
    const index = this.state.records.findIndex((record) =>
      record.repo === account.did && record.collection === body.collection && record.rkey === body.rkey
    )
    // Like the reference PDS, deleting a record that is not there succeeds.
    if (index >= 0) this.state.records.splice(index, 1)
    return { status: 200, body: { commit: { cid: cidFor("dag-cbor", sha256(`delete:${String(body.rkey)}`)), rev: this.state.nextTid() } } }
  }

  listRecords(query: URLSearchParams): Answer {
    const repo = query.get("repo") ?? invalid("Params must have the property \"repo\"")
    const collection = query.get("collection") ?? invalid("Params must have the property \"collection\"")
    const limit = Number(query.get("limit") ?? "50")
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) invalid("Params/limit must be between 1 and 100")
    const did = this.state.accounts.has(repo) ? repo : this.state.accountByHandle(repo)?.did
    if (did === undefined) invalid(`Could not find repo: ${repo}`)
    const reverse = query.get("reverse") === "true"
    const cursor = query.get("cursor")
    const sorted = this.state.records
      .filter((record) => record.repo === did && record.collection === collection)
      .sort((a, b) => (reverse ? a.rkey.localeCompare(b.rkey) : b.rkey.localeCompare(a.rkey)))
      .filter((record) => cursor === null || (reverse ? record.rkey > cursor : record.rkey < cursor))
    const page = sorted.slice(0, limit)
    return {
      status: 200,
      body: {
        records: page.map((record) => ({ uri: record.uri, cid: record.cid, value: record.value })),
        ...(page.length === limit && sorted.length > limit ? { cursor: page[page.length - 1]!.rkey } : {})
      }
    }
  }

  /** com.atproto.repo.getRecord. */
  getRecord(query: URLSearchParams): Answer {
    const record = this.findRecord(query.get("repo") ?? "", query.get("collection") ?? "", query.get("rkey") ?? "")
    if (record === undefined) fail(400, "RecordNotFound", `Could not locate record: at://${query.get("repo")}/${query.get("collection")}/${query.get("rkey")}`)
    return { status: 200, body: { uri: record!.uri, cid: record!.cid, value: record!.value } }
  }
}
