/**
 * Table tests for every rule of every built-in platform, at the limit and
 * one past it. Rows are generated from the rules table (so a new row is
 * tested as soon as it is added), and the numbers themselves are pinned in
 * "the table holds the documented values" (so a wrong table fails too).
 */
import { assert, describe, it } from "@effect/vitest"
import { Rules, Validation } from "@omnipost/core"
import type { Media, Post } from "@omnipost/core"
import { allRows, concreteMime, mediaFor, primaryKind, validMedia, validPostFor, validSettings } from "./ValidationFixtures.js"

const issuesOf = (post: unknown, options?: Validation.ValidateOptions) => Validation.validatePost(post, options).issues
const codesOf = (post: unknown, options?: Validation.ValidateOptions) => issuesOf(post, options).map((issue) => issue.code)
const has = (post: unknown, code: Validation.IssueCode, options?: Validation.ValidateOptions) => codesOf(post, options).includes(code)
const withMedia = (post: Post.PostInput, media: ReadonlyArray<Media.Media>): Post.PostInput => ({
  ...post,
  content: { ...post.content, media }
})
const withText = (post: Post.PostInput, text: string): Post.PostInput => ({ ...post, content: { ...post.content, text } })

const MB = 1_000_000
/** One grapheme of 28 UTF-8 bytes without a ZWJ (which ends an atproto hashtag): the flag of Scotland, a tag sequence. */
const scotland = { flag: "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}", bytes: 28 }

describe("the table holds the documented values", () => {
  const feed = (rules: Rules.PlatformRules, placement = rules.defaultPlacement) => Rules.placementRule(rules, placement)!
  // [what, actual, documented]
  const pinned: ReadonlyArray<readonly [string, unknown, unknown]> = [
    ["X text", feed(Rules.x).text.map((t) => [t.max, t.counting]), [[280, "twitter"]]],
    ["X images", feed(Rules.x).media.image?.maxCount, 4],
    ["X image size", feed(Rules.x).media.image?.maxSizeBytes, 5 * MB],
    ["X GIF", [feed(Rules.x).media.gif?.maxCount, feed(Rules.x).media.gif?.maxSizeBytes, feed(Rules.x).media.gif?.maxFrames], [1, 15 * MB, 350]],
    ["X video (conservative)", [feed(Rules.x).media.video?.minDurationSeconds, feed(Rules.x).media.video?.maxDurationSeconds, feed(Rules.x).media.video?.maxSizeBytes], [0.5, 140, 512 * MB]],
    ["X mixing", feed(Rules.x).mixedMedia, false],
    ["Instagram caption", feed(Rules.instagram).text.map((t) => t.max), [2200]],
    ["Instagram hashtags, mentions", [Rules.instagram.maxHashtags?.max, Rules.instagram.maxMentions?.max], [30, 20]],
    ["Instagram placements", Rules.instagram.placements.map((p) => p.placement), ["feed", "carousel", "reel", "story"]],
    ["Instagram feed image", [feed(Rules.instagram).media.image?.mimeTypes, feed(Rules.instagram).media.image?.maxSizeBytes, feed(Rules.instagram).media.image?.minAspectRatio, feed(Rules.instagram).media.image?.maxAspectRatio], [["image/jpeg"], 8 * MB, 0.8, 1.91]],
    ["Instagram carousel", [feed(Rules.instagram, "carousel").minMedia, feed(Rules.instagram, "carousel").maxMedia], [2, 10]],
    // IG User Media reference, Reel specifications: 3 s to 15 min, 300 MB (platform-specs §2.1).
    ["Instagram reel", [feed(Rules.instagram, "reel").media.video?.minDurationSeconds, feed(Rules.instagram, "reel").media.video?.maxDurationSeconds, feed(Rules.instagram, "reel").media.video?.maxSizeBytes], [3, 15 * 60, 300 * MB]],
    ["Instagram carousel video (conservative)", [feed(Rules.instagram, "carousel").media.video?.maxDurationSeconds], [90]],
    ["Instagram story video", [feed(Rules.instagram, "story").media.video?.maxDurationSeconds, feed(Rules.instagram, "story").media.video?.maxSizeBytes, feed(Rules.instagram, "story").textAllowed], [60, 100 * MB, false]],
    ["Facebook placements", Rules.facebook.placements.map((p) => p.placement), ["feed", "reel", "story"]],
    ["Facebook scheduling window", [Rules.facebook.nativeScheduling.minLeadSeconds, Rules.facebook.nativeScheduling.maxLeadSeconds], [600, 30 * 86_400]],
    ["Facebook story photo (conservative)", feed(Rules.facebook, "story").media.image?.maxSizeBytes, 4 * MB],
    ["Facebook reel duration", [feed(Rules.facebook, "reel").media.video?.minDurationSeconds, feed(Rules.facebook, "reel").media.video?.maxDurationSeconds], [3, 90]],
    ["Threads text", feed(Rules.threads).text.map((t) => [t.max, t.counting]), [[500, "threads"]]],
    ["Threads links", Rules.threads.maxLinks?.max, 5],
    ["Threads carousel", feed(Rules.threads).maxMedia, 20],
    ["Threads video", [feed(Rules.threads).media.video?.maxDurationSeconds, feed(Rules.threads).media.video?.maxSizeBytes], [300, 1e9]],
    ["LinkedIn text", feed(Rules.linkedin).text.map((t) => [t.max, t.counting]), [[3000, "utf16"]]],
    ["LinkedIn video (Videos API)", [feed(Rules.linkedin).media.video?.minSizeBytes, feed(Rules.linkedin).media.video?.maxSizeBytes, feed(Rules.linkedin).media.video?.maxDurationSeconds], [75_000, 500 * MB, 1800]],
    ["YouTube description", feed(Rules.youtube).text.map((t) => [t.max, t.counting]), [[5000, "utf8_bytes"]]],
    ["YouTube title and tags", feed(Rules.youtube).settingsText?.map((t) => [t.field, t.max]), [["title", 100], ["tags", 500]]],
    ["YouTube short", [feed(Rules.youtube, "short").media.video?.maxDurationSeconds, feed(Rules.youtube, "short").media.video?.maxAspectRatio], [180, 1]],
    ["YouTube scheduling", Rules.youtube.nativeScheduling.supported, true],
    ["TikTok caption", feed(Rules.tiktok).text.map((t) => [t.max, t.counting]), [[2200, "utf16"]]],
    ["TikTok photo", [feed(Rules.tiktok, "photo").media.image?.maxCount, feed(Rules.tiktok, "photo").media.image?.mimeTypes, feed(Rules.tiktok, "photo").text[0]?.max], [35, ["image/jpeg", "image/webp"], 4000]],
    ["TikTok video", [feed(Rules.tiktok).media.video?.minDurationSeconds, feed(Rules.tiktok).media.video?.maxDurationSeconds, feed(Rules.tiktok).media.video?.maxSizeBytes], [3, 600, 4e9]],
    ["Bluesky text", feed(Rules.bluesky).text.map((t) => [t.max, t.counting]), [[300, "graphemes"], [3000, "utf8_bytes"]]],
    // Lexicon app.bsky.embed.images: 2,000,000 bytes since atproto#4823 (April 2026; it was 1,000,000).
    ["Bluesky images", [feed(Rules.bluesky).media.image?.maxCount, feed(Rules.bluesky).media.image?.maxSizeBytes, feed(Rules.bluesky).media.gif?.maxSizeBytes], [4, 2_000_000, 2_000_000]],
    // Lexicon app.bsky.embed.video: 300,000,000 bytes since atproto#5373; the official app: 10 minutes.
    ["Bluesky video", [feed(Rules.bluesky).media.video?.maxDurationSeconds, feed(Rules.bluesky).media.video?.maxSizeBytes], [600, 300 * MB]],
    ["Bluesky link card thumbnail", [feed(Rules.bluesky).linkCardThumbnail?.maxSizeBytes, feed(Rules.bluesky).linkCardThumbnail?.mimeTypes], [1_000_000, ["image/*"]]],
    ["Bluesky hashtags", [Rules.bluesky.hashtagLength?.detection, Rules.bluesky.hashtagLength?.text.map((t) => [t.max, t.counting]), Rules.bluesky.hashtagLength?.settingsFields], ["atproto", [[64, "graphemes"], [640, "utf8_bytes"]], ["tags"]]],
    ["alt text", [feed(Rules.x).media.image?.altText?.[0]?.max, feed(Rules.instagram).media.image?.altText?.[0]?.max, feed(Rules.linkedin).media.image?.altText?.[0]?.max, feed(Rules.bluesky).media.image?.altText?.map((t) => t.max), feed(Rules.bluesky).media.video?.altText?.map((t) => t.max)], [1000, 1000, 4086, [2000], [2000]]],
    ["thumbnails", [feed(Rules.youtube).media.video?.thumbnail?.maxSizeBytes, feed(Rules.instagram, "reel").media.video?.thumbnail?.mimeTypes], [2 * MB, ["image/jpeg"]]],
    ["link goes in the text", allRows(Rules.rules).filter(({ row }) => row.linkInText === true).map(({ name }) => name), ["x/feed", "instagram/feed", "instagram/carousel", "instagram/reel", "youtube/video", "youtube/short", "tiktok/video", "tiktok/photo"]],
    ["link card exclusive with media", allRows(Rules.rules).filter(({ row }) => row.linkWithMedia === false).map(({ name }) => name), ["threads/feed", "bluesky/feed"]],
    ["threads supported", Object.values(Rules.rules).filter((r) => r.threads).map((r) => r.platform), ["x", "threads", "bluesky"]],
    ["native scheduling", Object.values(Rules.rules).filter((r) => r.nativeScheduling.supported).map((r) => r.platform), ["facebook", "youtube"]],
    ["media required", Object.values(Rules.rules).filter((r) => r.placements.every((p) => p.mediaRequired)).map((r) => r.platform), ["instagram", "youtube", "tiktok"]]
  ]
  for (const [what, actual, documented] of pinned) {
    it(what, () => assert.deepStrictEqual(actual, documented))
  }

  it("every row, limit and media rule carries a source", () => {
    for (const rules of Object.values(Rules.rules)) {
      assert.isTrue(rules.nativeScheduling.source.length > 0, rules.platform)
      assert.isTrue((rules.threadsSource ?? "").length > 0, rules.platform)
      for (const limit of [rules.maxHashtags, rules.maxMentions, rules.maxLinks]) if (limit) assert.isTrue(limit.source.length > 0)
      if (rules.hashtagLength) {
        assert.isTrue(rules.hashtagLength.source.length > 0)
        for (const limit of rules.hashtagLength.text) assert.isTrue(limit.source.length > 0)
      }
      for (const row of rules.placements) {
        assert.isTrue(row.source.length > 0, `${rules.platform}/${row.placement}`)
        for (const limit of [...row.text, ...(row.settingsText ?? [])]) assert.isTrue(limit.source.length > 0)
        for (const rule of Object.values(row.media)) {
          assert.isTrue(rule.source.length > 0)
          for (const limit of rule.altText ?? []) assert.isTrue(limit.source.length > 0)
          if (rule.thumbnail) assert.isTrue(rule.thumbnail.source.length > 0)
        }
        if (row.linkCardThumbnail) assert.isTrue(row.linkCardThumbnail.source.length > 0)
      }
    }
  })

  it("exports one constant per platform, the same objects as the table", () => {
    assert.deepStrictEqual(Object.keys(Rules.rules), ["x", "instagram", "facebook", "threads", "linkedin", "youtube", "tiktok", "bluesky"])
    assert.strictEqual(Rules.rules.x, Rules.x)
    assert.strictEqual(Rules.rules.bluesky, Rules.bluesky)
  })
})

describe("every rule of every platform, at the limit and one past it", () => {
  for (const { rules, row, name } of allRows(Rules.rules)) {
    describe(name, () => {
      const base = validPostFor(rules, row)

      it("the base post is valid", () => {
        assert.deepStrictEqual(issuesOf(base), [])
      })

      if (row.textAllowed) {
        for (const limit of row.text) {
          it(`text: ${limit.max} ${limit.counting} passes, ${limit.max + 1} fails`, () => {
            // Only this limit's issue: ASCII text of 3000 bytes is also 3000 graphemes (Bluesky has both limits).
            const thisLimit = (i: Validation.ValidationIssue) => i.code === "CONTENT_TOO_LONG" && i.limit === limit.max
            assert.isUndefined(issuesOf(withText(base, "a".repeat(limit.max))).find(thisLimit))
            const over = issuesOf(withText(base, "a".repeat(limit.max + 1))).find(thisLimit)
            assert.isDefined(over)
            assert.strictEqual(over?.limit, limit.max)
            assert.strictEqual(over?.actual, limit.max + 1)
            assert.deepStrictEqual(over?.path, ["content", "text"])
            assert.include(over?.message, String(limit.max))
            assert.include(over?.message, String(limit.max + 1))
          })
        }
      } else {
        it("takes no text: any text is reported, not dropped", () => {
          const issue = issuesOf(withText(base, "hi")).find((i) => i.code === "CONTENT_TOO_LONG")
          assert.strictEqual(issue?.limit, 0)
          assert.strictEqual(issue?.actual, 2)
        })
      }

      for (const limit of row.settingsText ?? []) {
        it(`settings ${limit.field}: ${limit.max} passes, ${limit.max + 1} fails`, () => {
          const value = (n: number) => (limit.join === "youtube_tags" ? ["a".repeat(n)] : "a".repeat(n))
          const post = (n: number): Post.PostInput => ({
            ...base,
            destinations: [{ ...base.destinations[0]!, settings: { ...base.destinations[0]!.settings, [limit.field]: value(n) } }]
          })
          assert.deepStrictEqual(issuesOf(post(limit.max)), [])
          const over = issuesOf(post(limit.max + 1))
          assert.deepStrictEqual(over.map((i) => [i.code, i.path, i.limit, i.actual]), [
            ["CONTENT_TOO_LONG", ["destinations", 0, "settings", limit.field], limit.max, limit.max + 1]
          ])
        })
      }

      for (const limit of rules.hashtagLength?.text ?? []) {
        // A tag of exactly n units of this counting that stays within the other limits.
        const tagOf = (n: number) => {
          if (limit.counting !== "utf8_bytes") return "a".repeat(n)
          const flags = Math.floor(n / scotland.bytes)
          return scotland.flag.repeat(flags) + "a".repeat(n - flags * scotland.bytes)
        }
        const over = (issues: ReadonlyArray<Validation.ValidationIssue>) =>
          issues.filter((i) => i.code === "CONTENT_TOO_LONG").map((i) => [i.path, i.limit, i.actual])
        it(`hashtag in the text: ${limit.max} ${limit.counting} passes, ${limit.max + 1} fails`, () => {
          assert.deepStrictEqual(issuesOf(withText(base, `Hi #${tagOf(limit.max)} there`)), [])
          assert.deepStrictEqual(over(issuesOf(withText(base, `Hi #${tagOf(limit.max + 1)} there`))), [
            [["content", "text"], limit.max, limit.max + 1]
          ])
        })
        for (const field of rules.hashtagLength?.settingsFields ?? []) {
          it(`settings ${field}, each tag: ${limit.max} ${limit.counting} passes, ${limit.max + 1} fails`, () => {
            const post = (tags: ReadonlyArray<string>): Post.PostInput => ({
              ...base,
              destinations: [{ ...base.destinations[0]!, settings: { ...base.destinations[0]!.settings, [field]: tags } }]
            })
            assert.deepStrictEqual(issuesOf(post(["short", tagOf(limit.max)])), [])
            // A leading # is not part of the tag (the publisher strips it).
            assert.deepStrictEqual(issuesOf(post([`#${tagOf(limit.max)}`])), [])
            assert.deepStrictEqual(over(issuesOf(post(["short", tagOf(limit.max + 1)]))), [
              [["destinations", 0, "settings", field, 1], limit.max, limit.max + 1]
            ])
          })
        }
      }

      if (row.mediaRequired) {
        it("needs media", () => {
          const issues = issuesOf(withMedia(base, []))
          assert.deepStrictEqual(issues.map((i) => [i.code, i.path]), [["MEDIA_REQUIRED", ["content", "media"]]])
        })
      }

      if (row.minMedia > 1) {
        it(`needs at least ${row.minMedia} media`, () => {
          assert.isFalse(has(withMedia(base, mediaFor(row, row.minMedia)), "TOO_FEW_MEDIA"))
          assert.isTrue(has(withMedia(base, mediaFor(row, row.minMedia - 1)), "TOO_FEW_MEDIA"))
        })
      }

      const widest = (Object.keys(row.media) as Array<Media.MediaKind>).find((kind) => row.media[kind]!.maxCount >= row.maxMedia)
      if (widest !== undefined) {
        it(`${row.maxMedia} media pass, ${row.maxMedia + 1} fail`, () => {
          assert.isFalse(has(withMedia(base, mediaFor(row, row.maxMedia, widest)), "TOO_MANY_MEDIA"))
          const over = issuesOf(withMedia(base, mediaFor(row, row.maxMedia + 1, widest))).filter((i) => i.code === "TOO_MANY_MEDIA")
          assert.deepStrictEqual(over.map((i) => [i.limit, i.actual]), [[row.maxMedia, row.maxMedia + 1]])
        })
      }

      const kinds = Object.keys(row.media) as Array<Media.MediaKind>
      if (kinds.length > 1) {
        it(row.mixedMedia ? "mixes media kinds" : "does not mix media kinds", () => {
          const mixed = kinds.slice(0, 2).map((kind) => validMedia(kind, row.media[kind]!))
          const padded = [...mixed, ...mediaFor(row, Math.max(0, row.minMedia - mixed.length))]
          assert.strictEqual(has(withMedia(base, padded), "MIXED_MEDIA_NOT_SUPPORTED"), !row.mixedMedia)
        })
      }

      for (const kind of ["image", "video", "gif", "document"] as const) {
        if (row.media[kind] !== undefined) continue
        it(`rejects ${kind} media`, () => {
          const item: Media.Media = { kind, mimeType: "application/octet-stream", sizeBytes: 10, source: { _tag: "url", url: "https://m.example/x" } }
          const padded = [item, ...mediaFor(row, Math.max(0, row.minMedia - 1))]
          const codes = codesOf(withMedia(base, padded))
          assert.isTrue(codes.includes("UNSUPPORTED_MEDIA_TYPE") || codes.includes("UNSUPPORTED_MEDIA_CONFIG"), codes.join())
        })
      }

      for (const kind of kinds) {
        const rule = row.media[kind]!
        const fill = Math.max(1, row.minMedia) - 1
        const postWith = (patch: Partial<Media.Media>) =>
          withMedia(base, [{ ...validMedia(kind, rule), ...patch }, ...mediaFor(row, fill, kind)])

        if (rule.maxCount < row.maxMedia) {
          it(`${kind}: ${rule.maxCount} pass, ${rule.maxCount + 1} fail`, () => {
            assert.isFalse(has(withMedia(base, mediaFor(row, Math.max(rule.maxCount, row.minMedia), kind)), "TOO_MANY_MEDIA"))
            const over = issuesOf(withMedia(base, mediaFor(row, rule.maxCount + 1, kind))).filter((i) => i.code === "TOO_MANY_MEDIA")
            assert.deepStrictEqual(over.map((i) => [i.limit, i.actual]), [[rule.maxCount, rule.maxCount + 1]])
          })
        }
        it(`${kind}: every allowed MIME type passes, another fails`, () => {
          for (const mime of rule.mimeTypes) assert.isFalse(has(postWith({ mimeType: concreteMime(mime, kind) }), "UNSUPPORTED_MEDIA_TYPE"), mime)
          assert.isTrue(has(postWith({ mimeType: "application/x-unknown" }), "UNSUPPORTED_MEDIA_TYPE"))
        })
        if (rule.maxSizeBytes !== undefined) {
          const max = rule.maxSizeBytes
          it(`${kind}: ${max} bytes pass, ${max + 1} fail`, () => {
            assert.isFalse(has(postWith({ sizeBytes: max }), "MEDIA_TOO_LARGE"))
            const over = issuesOf(postWith({ sizeBytes: max + 1 })).find((i) => i.code === "MEDIA_TOO_LARGE")
            assert.deepStrictEqual([over?.limit, over?.actual, over?.path], [max, max + 1, ["content", "media", 0, "sizeBytes"]])
          })
        }
        if (rule.minSizeBytes !== undefined) {
          const min = rule.minSizeBytes
          it(`${kind}: ${min} bytes pass, ${min - 1} fail`, () => {
            assert.isFalse(has(postWith({ sizeBytes: min }), "MEDIA_TOO_SMALL"))
            assert.isTrue(has(postWith({ sizeBytes: min - 1 }), "MEDIA_TOO_SMALL"))
          })
        }
        if (rule.maxDurationSeconds !== undefined) {
          const max = rule.maxDurationSeconds
          it(`${kind}: ${max} s pass, ${max + 0.5} s fail`, () => {
            assert.isFalse(has(postWith({ durationSeconds: max }), "VIDEO_DURATION_OUT_OF_RANGE"))
            const over = issuesOf(postWith({ durationSeconds: max + 0.5 })).find((i) => i.code === "VIDEO_DURATION_OUT_OF_RANGE")
            assert.deepStrictEqual([over?.limit, over?.actual], [max, max + 0.5])
          })
        }
        if (rule.minDurationSeconds !== undefined) {
          const min = rule.minDurationSeconds
          it(`${kind}: ${min > 0 ? `${min} s passes, ${min - 0.1} s fails` : "any length above 0 passes, 0 fails"}`, () => {
            assert.isFalse(has(postWith({ durationSeconds: min > 0 ? min : 0.1 }), "VIDEO_DURATION_OUT_OF_RANGE"))
            assert.isTrue(has(postWith({ durationSeconds: min > 0 ? min - 0.1 : 0 }), "VIDEO_DURATION_OUT_OF_RANGE"))
          })
        }
        if (rule.minAspectRatio !== undefined) {
          const min = rule.minAspectRatio
          it(`${kind}: aspect ${min.toFixed(4)} passes, 2 % narrower fails`, () => {
            assert.isFalse(has(postWith({ width: Math.round(min * 10_000), height: 10_000 }), "ASPECT_RATIO_OUT_OF_RANGE"))
            assert.isTrue(has(postWith({ width: Math.round(min * 0.98 * 10_000), height: 10_000 }), "ASPECT_RATIO_OUT_OF_RANGE"))
          })
        }
        if (rule.maxAspectRatio !== undefined) {
          const max = rule.maxAspectRatio
          it(`${kind}: aspect ${max.toFixed(4)} passes, 2 % wider fails`, () => {
            assert.isFalse(has(postWith({ width: Math.round(max * 10_000), height: 10_000 }), "ASPECT_RATIO_OUT_OF_RANGE"))
            assert.isTrue(has(postWith({ width: Math.round(max * 1.02 * 10_000), height: 10_000 }), "ASPECT_RATIO_OUT_OF_RANGE"))
          })
        }
        for (const [side, min, max] of [["width", rule.minWidth, rule.maxWidth], ["height", rule.minHeight, rule.maxHeight]] as const) {
          if (max !== undefined) {
            it(`${kind}: ${side} ${max} passes, ${max + 1} fails`, () => {
              assert.isFalse(has(postWith({ [side]: max }), "DIMENSIONS_OUT_OF_RANGE"))
              assert.isTrue(has(postWith({ [side]: max + 1 }), "DIMENSIONS_OUT_OF_RANGE"))
            })
          }
          if (min !== undefined) {
            it(`${kind}: ${side} ${min} passes, ${min - 1} fails`, () => {
              assert.isFalse(has(postWith({ [side]: min }), "DIMENSIONS_OUT_OF_RANGE"))
              assert.isTrue(has(postWith({ [side]: min - 1 }), "DIMENSIONS_OUT_OF_RANGE"))
            })
          }
        }
        if (rule.maxPixels !== undefined) {
          const max = rule.maxPixels
          it(`${kind}: ${max} pixels pass, ${max + 1} fail`, () => {
            assert.isFalse(has(postWith({ width: max, height: 1 }), "DIMENSIONS_OUT_OF_RANGE"))
            assert.isTrue(has(postWith({ width: max + 1, height: 1 }), "DIMENSIONS_OUT_OF_RANGE"))
          })
        }
        for (const limit of rule.altText ?? []) {
          it(`${kind}: alt text of ${limit.max} ${limit.counting} passes, ${limit.max + 1} fails`, () => {
            // ASCII counts 1 in every unit, so "a" × n counts n whatever the limit counts.
            const alt = (n: number) => "a".repeat(n)
            const thisLimit = (i: Validation.ValidationIssue) => i.code === "CONTENT_TOO_LONG" && i.limit === limit.max
            assert.isUndefined(issuesOf(postWith({ altText: alt(limit.max) })).find(thisLimit))
            const over = issuesOf(postWith({ altText: alt(limit.max + 1) })).find(thisLimit)
            assert.deepStrictEqual([over?.path, over?.actual], [["content", "media", 0, "altText"], limit.max + 1])
          })
        }
        if (rule.thumbnail !== undefined) {
          const thumbnailRule = rule.thumbnail
          it(`${kind}: thumbnail types and size`, () => {
            const thumbnail = (mimeType: string, sizeBytes: number) => ({ thumbnail: { source: { _tag: "url" as const, url: "https://m.example/t" }, mimeType, sizeBytes } })
            const max = thumbnailRule.maxSizeBytes ?? 1_000
            for (const mime of thumbnailRule.mimeTypes) assert.deepStrictEqual(issuesOf(postWith(thumbnail(mime, max))), [], mime)
            assert.deepStrictEqual(
              issuesOf(postWith(thumbnail("image/heic", max + 1))).map((i): ReadonlyArray<unknown> => [i.code, i.path]),
              [
                ["UNSUPPORTED_MEDIA_TYPE", ["content", "media", 0, "thumbnail", "mimeType"]],
                ...(thumbnailRule.maxSizeBytes !== undefined ? [["MEDIA_TOO_LARGE", ["content", "media", 0, "thumbnail", "sizeBytes"]]] : [])
              ]
            )
          })
        }
        if (rule.maxFrames !== undefined) {
          const max = rule.maxFrames
          it(`${kind}: ${max} frames pass, ${max + 1} fail`, () => {
            assert.isFalse(has(postWith({ frames: max }), "UNSUPPORTED_MEDIA_CONFIG"))
            assert.isTrue(has(postWith({ frames: max + 1 }), "UNSUPPORTED_MEDIA_CONFIG"))
          })
        }
      }

      if (row.linkWithMedia === false && primaryKind(row) !== undefined) {
        it("takes a link card or media, not both", () => {
          const post = { ...base, content: { ...base.content, link: "https://example.com", media: mediaFor(row, 1) } }
          assert.deepStrictEqual(
            issuesOf(post).map((i) => [i.code, i.path]),
            [["UNSUPPORTED_MEDIA_CONFIG", ["content", "link"]]]
          )
        })
      }
    })
  }

  for (const rules of Object.values(Rules.rules)) {
    const row = Rules.placementRule(rules, rules.defaultPlacement)!
    const base = validPostFor(rules, row)
    const text = (n: number, unit: (i: number) => string) => Array.from({ length: n }, (_, i) => unit(i)).join(" ")

    if (rules.maxHashtags !== undefined) {
      const max = rules.maxHashtags.max
      it(`${rules.platform}: ${max} hashtags pass, ${max + 1} fail`, () => {
        assert.isFalse(has(withText(base, text(max, (i) => `#tag${i}`)), "TOO_MANY_HASHTAGS"))
        const over = issuesOf(withText(base, text(max + 1, (i) => `#tag${i}`))).find((i) => i.code === "TOO_MANY_HASHTAGS")
        assert.deepStrictEqual([over?.limit, over?.actual], [max, max + 1])
      })
    }
    if (rules.maxMentions !== undefined) {
      const max = rules.maxMentions.max
      it(`${rules.platform}: ${max} mentions pass, ${max + 1} fail`, () => {
        assert.isFalse(has(withText(base, text(max, (i) => `@user${i}`)), "TOO_MANY_MENTIONS"))
        const over = issuesOf(withText(base, text(max + 1, (i) => `@user${i}`))).find((i) => i.code === "TOO_MANY_MENTIONS")
        assert.deepStrictEqual([over?.limit, over?.actual], [max, max + 1])
      })
    }
    if (rules.maxLinks !== undefined) {
      const max = rules.maxLinks.max
      it(`${rules.platform}: ${max} distinct links pass, ${max + 1} fail (a different link attachment counts)`, () => {
        assert.isFalse(has(withText(base, text(max, (i) => `https://site${i}.com`)), "TOO_MANY_LINKS"))
        assert.isFalse(has(withText(base, `${text(max, (i) => `https://site${i}.com`)} https://site0.com`), "TOO_MANY_LINKS"))
        assert.isTrue(has(withText(base, text(max + 1, (i) => `https://site${i}.com`)), "TOO_MANY_LINKS"))
        const withAttachment = { ...base, content: { ...base.content, text: text(max, (i) => `https://site${i}.com`), link: "https://other.com" } }
        assert.isTrue(has(withAttachment, "TOO_MANY_LINKS"))
      })
    }

    it(`${rules.platform}: a two-part thread ${rules.threads ? "is accepted" : "is THREAD_NOT_SUPPORTED"}`, () => {
      const threaded = { ...base, content: { ...base.content, thread: [{ text: "second", media: row.mediaRequired ? mediaFor(row, Math.max(1, row.minMedia)) : [] }] } }
      assert.strictEqual(has(threaded, "THREAD_NOT_SUPPORTED"), !rules.threads)
      if (rules.threads) assert.deepStrictEqual(issuesOf(threaded), [])
    })

    describe(`${rules.platform}: native scheduling`, () => {
      const now = new Date("2026-06-01T12:00:00Z")
      const scheduled = (leadSeconds: number): Post.PostInput => ({
        ...base,
        schedule: { _tag: "instant", at: new Date(now.getTime() + leadSeconds * 1000).toISOString() }
      })
      const native = { scheduling: "native", now } as const
      const { supported, minLeadSeconds, maxLeadSeconds } = rules.nativeScheduling
      if (!supported) {
        it("cannot schedule natively; the worker can", () => {
          assert.isTrue(has(scheduled(86_400), "SCHEDULING_NOT_SUPPORTED", native))
          assert.isFalse(has(scheduled(86_400), "SCHEDULING_NOT_SUPPORTED", { now }))
        })
      } else {
        it("schedules within its window", () => {
          const inside = minLeadSeconds ?? 0
          assert.isFalse(has(scheduled(Math.max(inside, 3600)), "SCHEDULING_NOT_SUPPORTED", native))
          if (minLeadSeconds !== undefined && minLeadSeconds > 0) {
            assert.isFalse(has(scheduled(minLeadSeconds), "SCHEDULING_NOT_SUPPORTED", native))
            assert.isTrue(has(scheduled(minLeadSeconds - 1), "SCHEDULING_NOT_SUPPORTED", native))
          }
          if (maxLeadSeconds !== undefined) {
            assert.isFalse(has(scheduled(maxLeadSeconds), "SCHEDULING_NOT_SUPPORTED", native))
            assert.isTrue(has(scheduled(maxLeadSeconds + 1), "SCHEDULING_NOT_SUPPORTED", native))
          }
        })
      }
    })
  }
})

describe("concrete counting through validatePost", () => {
  const xPost = (text: string) => ({ content: { text }, destinations: [{ platform: "x", accountId: "1" }] })
  const blueskyPost = (text: string) => ({ content: { text }, destinations: [{ platform: "bluesky", accountId: "1" }] })
  const threadsPost = (text: string) => ({ content: { text }, destinations: [{ platform: "threads", accountId: "1" }] })

  it("X: 140 emoji weigh 280 and pass; 141 weigh 282", () => {
    assert.deepStrictEqual(issuesOf(xPost("😀".repeat(140))), [])
    const over = issuesOf(xPost("😀".repeat(141)))
    assert.deepStrictEqual(over.map((i) => [i.code, i.limit, i.actual]), [["CONTENT_TOO_LONG", 280, 282]])
  })

  it("X: URLs count 23; the message says so", () => {
    const url = `https://example.com/${"p".repeat(100)}`
    // 257 + 1 space + 23 = 281
    const over = issuesOf(xPost(`${"a".repeat(257)} ${url}`))
    assert.strictEqual(over[0]?.actual, 281)
    assert.strictEqual(over[0]?.message, "X allows 280 characters, URLs counting 23 each and emoji and CJK characters 2; this text counts 281")
    assert.deepStrictEqual(issuesOf(xPost(`${"a".repeat(256)} ${url}`)), [])
  })

  it("X: 140 CJK characters pass, 141 fail", () => {
    assert.deepStrictEqual(issuesOf(xPost("字".repeat(140))), [])
    assert.strictEqual(issuesOf(xPost("字".repeat(141)))[0]?.actual, 282)
  })

  it("Bluesky: 300 ZWJ families pass the grapheme limit and fail the byte limit", () => {
    const issues = issuesOf(blueskyPost("👨‍👩‍👧‍👦".repeat(300)))
    assert.deepStrictEqual(issues.map((i) => [i.code, i.limit, i.actual]), [["CONTENT_TOO_LONG", 3000, 7500]])
  })

  it("Bluesky: 300 graphemes of exactly 3000 bytes pass; one more byte fails", () => {
    // "e" + 9 combining acute accents: 1 grapheme, 19 bytes.
    const heavy = `e${"\u0301".repeat(9)}`
    const text = heavy.repeat(150) + "a".repeat(150)
    assert.deepStrictEqual(issuesOf(blueskyPost(text)), [])
    // Swap one "a" (1 byte) for "é" (2 bytes): still 300 graphemes, now 3001 bytes.
    const over = issuesOf(blueskyPost(`${text.slice(0, -1)}é`))
    assert.deepStrictEqual(over.map((i) => [i.code, i.limit, i.actual]), [["CONTENT_TOO_LONG", 3000, 3001]])
  })

  it("Bluesky: 301 flags fail the grapheme limit only", () => {
    const issues = issuesOf(blueskyPost("🇫🇷".repeat(301)))
    // 301 × 8 bytes = 2408: under the byte limit.
    assert.deepStrictEqual(issues.map((i) => [i.limit, i.actual]), [[300, 301]])
  })

  it("Bluesky: a hashtag of 23 Scotland flags (23 graphemes, 644 bytes) fails the tag's byte limit", () => {
    // @atproto/api's RichText makes it a tag facet (it checks only graphemes) and the PDS refuses the record.
    const issues = issuesOf(blueskyPost(`Go #${scotland.flag.repeat(23)}`))
    assert.deepStrictEqual(issues.map((i) => [i.code, i.path, i.limit, i.actual]), [["CONTENT_TOO_LONG", ["content", "text"], 640, 644]])
    assert.include(issues[0]?.message, "hashtag")
    assert.deepStrictEqual(issuesOf(blueskyPost(`Go #${scotland.flag.repeat(22)}`)), [])
  })

  it("Bluesky: only what atproto detects as a hashtag is checked", () => {
    const long = "a".repeat(65)
    for (const text of [
      `https://example.com/#${long}`, // not after whitespace: part of the URL
      `#${"1".repeat(70)}`, // digits only: not a tag
      `#${"👨‍👩‍👧‍👦".repeat(30)}`, // a ZWJ ends the tag: the tag is one emoji
      `##`
    ]) {
      assert.deepStrictEqual(issuesOf(blueskyPost(text)), [], text)
    }
    // Trailing punctuation is not part of the tag: 64 letters and a full stop pass.
    assert.deepStrictEqual(issuesOf(blueskyPost(`#${"a".repeat(64)}.`)), [])
    assert.deepStrictEqual(issuesOf(blueskyPost(`＃${long}`)).map((i) => [i.limit, i.actual]), [[64, 65]])
  })

  it("Bluesky: a long hashtag in a thread part is reported at that part", () => {
    const issues = issuesOf({
      content: { text: "first", thread: [{ text: `second #${"b".repeat(70)}` }] },
      destinations: [{ platform: "bluesky", accountId: "1" }]
    })
    assert.deepStrictEqual(issues.map((i) => [i.code, i.path, i.limit, i.actual]), [["CONTENT_TOO_LONG", ["content", "thread", 0, "text"], 64, 70]])
  })

  it("Threads: an emoji counts its UTF-8 bytes", () => {
    assert.deepStrictEqual(issuesOf(threadsPost("😀".repeat(125))), [])
    assert.strictEqual(issuesOf(threadsPost("😀".repeat(126)))[0]?.actual, 504)
  })

  it("YouTube: the description counts bytes; tags count commas and quotes", () => {
    const post = (text: string, tags: ReadonlyArray<string>) => ({
      content: { text, media: [validMedia("video", Rules.youtube.placements[0]!.media.video!)] },
      destinations: [{ platform: "youtube", accountId: "1", settings: { ...validSettings.youtube, tags } }]
    })
    // 2500 "é" are 2500 characters but 5000 bytes.
    assert.deepStrictEqual(issuesOf(post("é".repeat(2500), [])), [])
    assert.strictEqual(issuesOf(post(`${"é".repeat(2500)}a`, []))[0]?.actual, 5001)
    // 49 tags "abcdefghi" + commas = 49 * 9 + 48 = 489; "a b c d e" quoted = 11 → 489 + 1 + 11 = 501
    const tags = [...Array.from({ length: 49 }, () => "abcdefghi"), "a b c d e"]
    const issues = issuesOf(post("desc", tags))
    assert.deepStrictEqual(issues.map((i) => [i.code, i.actual]), [["CONTENT_TOO_LONG", 501]])
  })
})
