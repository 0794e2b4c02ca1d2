import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Rules, Settings, Validation } from "@omnipost/core"
import type { Media } from "@omnipost/core"
import { validMedia, validSettings } from "./ValidationFixtures.js"

const issuesOf = (post: unknown, options?: Validation.ValidateOptions) => Validation.validatePost(post, options).issues
const summary = (post: unknown, options?: Validation.ValidateOptions) =>
  issuesOf(post, options).map((issue) => [issue.code, issue.path] as const)

const jpeg = (patch: Partial<Media.Media> = {}): Media.Media => ({
  kind: "image",
  mimeType: "image/jpeg",
  sizeBytes: 200_000,
  width: 1080,
  height: 1080,
  source: { _tag: "url", url: "https://media.example/a.jpg" },
  ...patch
})
const mp4 = (patch: Partial<Media.Media> = {}): Media.Media => ({
  kind: "video",
  mimeType: "video/mp4",
  sizeBytes: 5_000_000,
  width: 1080,
  height: 1920,
  durationSeconds: 30,
  source: { _tag: "url", url: "https://media.example/a.mp4" },
  ...patch
})

describe("validatePost: every issue at once", () => {
  it("reports all problems of all destinations in one call", () => {
    const post = {
      content: {
        text: `${"a".repeat(290)} #one #two`,
        media: [jpeg({ mimeType: "image/png", sizeBytes: 9_000_000 }), mp4({ durationSeconds: 200 })],
        thread: [{ text: "" }],
        link: "https://example.com"
      },
      destinations: [
        { platform: "x", accountId: "1" },
        { platform: "x", accountId: "1" },
        { platform: "instagram", accountId: "2", placement: "video" },
        { platform: "bluesky", accountId: "3" },
        { platform: "mastodon", accountId: "4" },
        { platform: "youtube", accountId: "5", settings: { privacyStatus: "secret" } }
      ],
      schedule: { _tag: "local", localTime: "2026-03-29T01:30", timeZone: "Europe/London" }
    }
    const result = Validation.validatePost(post)
    assert.isFalse(result.valid)
    const codes = new Set(result.issues.map((issue) => issue.code))
    for (
      const code of [
        "CONTENT_TOO_LONG",
        "CONTENT_REQUIRED",
        "MIXED_MEDIA_NOT_SUPPORTED",
        "MEDIA_TOO_LARGE",
        "VIDEO_DURATION_OUT_OF_RANGE",
        "DUPLICATE_DESTINATION",
        "INVALID_PLACEMENT",
        "UNKNOWN_PLATFORM",
        "THREAD_NOT_SUPPORTED",
        "INVALID_SETTINGS",
        "INVALID_SCHEDULE",
        "TOO_MANY_MEDIA",
        "UNSUPPORTED_MEDIA_CONFIG"
      ] as const
    ) {
      assert.isTrue(codes.has(code), `missing ${code}`)
    }
    // Each destination got its own issues.
    assert.deepStrictEqual(
      [...new Set(result.issues.flatMap((issue) => (issue.destinationIndex === undefined ? [] : [issue.destinationIndex])))].sort(),
      [0, 1, 2, 3, 4, 5]
    )
  })

  it("broken content does not hide the destinations' settings issues", () => {
    const post = { content: { text: 42 }, destinations: [{ platform: "tiktok", accountId: "1", settings: { privacyLevel: "EVERYONE" } }] }
    assert.deepStrictEqual(summary(post), [
      ["INVALID_POST", ["content", "text"]],
      ["INVALID_SETTINGS", ["destinations", 0, "settings", "privacyLevel"]]
    ])
  })

  it("a valid post has no issues", () => {
    const result = Validation.validatePost({
      content: { text: "Launch day! https://example.com #launch", media: [jpeg()] },
      destinations: [
        { platform: "x", accountId: "1" },
        { platform: "bluesky", accountId: "2" },
        { platform: "instagram", accountId: "3" },
        { platform: "facebook", accountId: "4" },
        { platform: "linkedin", accountId: "5", settings: { visibility: "PUBLIC" } },
        { platform: "threads", accountId: "6", settings: { topicTag: "launches" } }
      ]
    })
    assert.deepStrictEqual(result, { valid: true, issues: [] })
  })
})

describe("validatePost: overrides and paths", () => {
  it("points at the platform override or the destination override the text came from", () => {
    const post = {
      content: { text: "short" },
      platformOverrides: { x: { text: "a".repeat(281) } },
      destinations: [
        { platform: "x", accountId: "1" },
        { platform: "bluesky", accountId: "2", override: { text: "b".repeat(301) } },
        { platform: "x", accountId: "3", override: { text: "fine" } }
      ]
    }
    assert.deepStrictEqual(summary(post), [
      ["CONTENT_TOO_LONG", ["platformOverrides", "x", "text"]],
      ["CONTENT_TOO_LONG", ["destinations", 1, "override", "text"]]
    ])
  })

  it("checks each thread part and points at it", () => {
    const post = {
      content: { text: "1/3", thread: [{ text: "2/3" }, { text: "c".repeat(281) }] },
      destinations: [{ platform: "x", accountId: "1" }]
    }
    const [issue] = issuesOf(post)
    assert.deepStrictEqual(issue?.path, ["content", "thread", 1, "text"])
    assert.strictEqual(issue?.message, "X allows 280 characters, URLs counting 23 each and emoji and CJK characters 2; this text (thread part 3) counts 281")
    assert.deepStrictEqual([issue?.platform, issue?.destinationIndex, issue?.accountId, issue?.limit, issue?.actual], ["x", 0, "1", 280, 281])
  })

  it("a platform override without a thread lets a thread go to a platform without reply chains", () => {
    const post = {
      content: { text: "1/2", thread: [{ text: "2/2" }] },
      platformOverrides: { linkedin: { thread: [] } },
      destinations: [{ platform: "x", accountId: "1" }, { platform: "linkedin", accountId: "2" }, { platform: "facebook", accountId: "3" }]
    }
    assert.deepStrictEqual(summary(post), [["THREAD_NOT_SUPPORTED", ["content", "thread"]]])
    assert.strictEqual(issuesOf(post)[0]?.platform, "facebook")
  })

  it("X has no link field: the link is counted in the text, unless the text has it already", () => {
    const x = (text: string, link: string) => ({ content: { text, link }, destinations: [{ platform: "x", accountId: "1" }] })
    const link = `https://example.com/${"p".repeat(60)}`
    // 255 + blank line (2) + 23 = 280
    assert.deepStrictEqual(issuesOf(x("a".repeat(255), link)), [])
    const over = issuesOf(x("a".repeat(256), link))[0]
    assert.deepStrictEqual([over?.code, over?.actual, over?.path], ["CONTENT_TOO_LONG", 281, ["content", "text"]])
    assert.include(over?.message, "this text with its link counts 281")
    assert.deepStrictEqual(issuesOf(x(`${"a".repeat(256)} ${link}`, link)), [])
    // Bluesky makes a link card instead: the text alone is counted.
    assert.deepStrictEqual(issuesOf({ content: { text: "a".repeat(300), link }, destinations: [{ platform: "bluesky", accountId: "1" }] }), [])
  })

  it("a story takes no link", () => {
    const story = { content: { media: [jpeg()], link: "https://example.com" }, destinations: [{ platform: "instagram", accountId: "1", placement: "story" }] }
    assert.deepStrictEqual(summary(story), [["UNSUPPORTED_MEDIA_CONFIG", ["content", "link"]]])
  })

  it("messages state the limit and the actual value", () => {
    const messages = issuesOf({
      content: { text: "hi", media: [mp4({ durationSeconds: 150, width: 4000, height: 1000 })] },
      destinations: [{ platform: "x", accountId: "1" }]
    }).map((issue) => issue.message)
    assert.deepStrictEqual(messages, [
      "X allows video of 0.5 s to 140 s; this one lasts 150 s",
      "X needs video with an aspect ratio (width / height) of 0.3333 to 3; this one is 4000×1000 (4)"
    ])
    const justOver = issuesOf({ content: { media: [jpeg({ sizeBytes: 2_000_001 })] }, destinations: [{ platform: "bluesky", accountId: "1" }] })
    assert.deepStrictEqual(justOver.map((issue) => issue.message), ["Bluesky allows image up to 2,000,000 bytes; this one is 2,000,001 bytes"])
    const many = issuesOf({ content: { media: [jpeg(), jpeg()] }, destinations: [{ platform: "instagram", accountId: "1", placement: "feed" }] })
    assert.deepStrictEqual(many.map((issue) => issue.message), ["Instagram feed allows 1 media item; this post has 2"])
  })

  it("points at media by index and field", () => {
    const post = {
      content: { media: [jpeg(), jpeg({ sizeBytes: 2_500_000 })] },
      destinations: [{ platform: "bluesky", accountId: "1" }]
    }
    const [issue] = issuesOf(post)
    assert.deepStrictEqual(issue?.path, ["content", "media", 1, "sizeBytes"])
    assert.strictEqual(issue?.message, "Bluesky allows image up to 2 MB; this one is 2.5 MB")
  })
})

describe("validatePost: destinations", () => {
  it("reports the same platform, account and placement twice", () => {
    const post = {
      content: { media: [jpeg()] },
      destinations: [
        { platform: "instagram", accountId: "1" },
        { platform: "instagram", accountId: "1", placement: "story" },
        { platform: "instagram", accountId: "1", placement: "feed" },
        { platform: "instagram", accountId: "2" }
      ]
    }
    assert.deepStrictEqual(summary(post), [["DUPLICATE_DESTINATION", ["destinations", 2]]])
  })

  it("reports unknown platforms and placements a platform does not have", () => {
    const post = {
      content: { text: "hi" },
      destinations: [{ platform: "myspace", accountId: "1" }, { platform: "x", accountId: "2", placement: "story" }]
    }
    assert.deepStrictEqual(summary(post), [
      ["UNKNOWN_PLATFORM", ["destinations", 0, "platform"]],
      ["INVALID_PLACEMENT", ["destinations", 1, "placement"]]
    ])
  })

  it("infers Instagram's placement from the media", () => {
    const instagram = (media: ReadonlyArray<Media.Media>) => ({ content: { text: "hi", media }, destinations: [{ platform: "instagram", accountId: "1" }] })
    assert.deepStrictEqual(issuesOf(instagram([jpeg()])), [])
    assert.deepStrictEqual(issuesOf(instagram([jpeg(), mp4({ width: 1080, height: 1080 })])), [])
    assert.deepStrictEqual(issuesOf(instagram([mp4()])), [])
    assert.strictEqual(Rules.inferPlacement(Rules.instagram, ["video"]), "reel")
    assert.strictEqual(Rules.inferPlacement(Rules.instagram, ["image", "image"]), "carousel")
    assert.strictEqual(Rules.inferPlacement(Rules.tiktok, ["image"]), "photo")
    // Eleven images fit nowhere: the carousel's limit is the useful complaint.
    const issue = issuesOf(instagram(Array.from({ length: 11 }, () => jpeg())))[0]
    assert.deepStrictEqual([issue?.code, issue?.limit, issue?.actual], ["TOO_MANY_MEDIA", 10, 11])
    assert.include(issue?.message, "Instagram carousel")
  })

  it("a story takes no caption: its text is reported, not dropped", () => {
    const issues = issuesOf({ content: { text: "hello", media: [jpeg()] }, destinations: [{ platform: "instagram", accountId: "1", placement: "story" }] })
    assert.deepStrictEqual(issues.map((issue) => [issue.code, issue.limit, issue.actual]), [["CONTENT_TOO_LONG", 0, 5]])
  })

  it("counts hashtags and mentions per platform", () => {
    const text = `${Array.from({ length: 31 }, (_, i) => `#t${i}`).join(" ")} ${Array.from({ length: 21 }, (_, i) => `@u${i}`).join(" ")}`
    const issues = issuesOf({ content: { text, media: [jpeg()] }, destinations: [{ platform: "instagram", accountId: "1" }, { platform: "facebook", accountId: "1" }] })
    assert.deepStrictEqual(issues.map((issue) => [issue.code, issue.platform, issue.limit, issue.actual]), [
      ["TOO_MANY_HASHTAGS", "instagram", 30, 31],
      ["TOO_MANY_MENTIONS", "instagram", 20, 21]
    ])
  })

  it("accepts a stored Post with its publishing state", () => {
    const stored = {
      id: "post_1",
      status: "partially_failed",
      createdAt: "2026-01-01T00:00:00Z",
      updatedAt: "2026-01-01T00:00:00Z",
      content: { text: "hi" },
      destinations: [{
        id: "dest_1",
        platform: "x",
        accountId: "1",
        status: "failed",
        attempts: 3,
        lastError: { code: "RATE_LIMITED", message: "slow down", retryable: true }
      }]
    }
    assert.deepStrictEqual(issuesOf(stored), [])
  })
})

describe("validatePost: settings", () => {
  const youtube = (settings: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    content: { text: "description", media: [validMedia("video", Rules.youtube.placements[0]!.media.video!)] },
    destinations: [{ platform: "youtube", accountId: "1", settings }],
    ...extra
  })

  it("reports missing, wrong and unknown settings with their paths", () => {
    const byPath = (a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>) => String(a[1]).localeCompare(String(b[1]))
    const expected: Array<ReadonlyArray<unknown>> = [
      ["INVALID_SETTINGS", ["destinations", 0, "settings", "title"]],
      ["INVALID_SETTINGS", ["destinations", 0, "settings", "privacyStatus"]],
      ["INVALID_SETTINGS", ["destinations", 0, "settings", "privcy"]]
    ]
    assert.deepStrictEqual([...summary(youtube({ privacyStatus: "secret", madeForKids: false, privcy: 1 }))].sort(byPath), expected.sort(byPath))
  })

  it("points at the platform override that supplied a setting", () => {
    const post = youtube({ privacyStatus: "private", madeForKids: false }, { platformOverrides: { youtube: { settings: { title: "a".repeat(101) } } } })
    assert.deepStrictEqual(summary(post), [["CONTENT_TOO_LONG", ["platformOverrides", "youtube", "settings", "title"]]])
  })

  it("rejects < and > in a YouTube title and description", () => {
    const post = { ...youtube({ ...validSettings.youtube, title: "a <b>" }), content: { text: "x > y", media: [validMedia("video", Rules.youtube.placements[0]!.media.video!)] } }
    assert.deepStrictEqual(summary(post), [
      ["INVALID_CHARACTERS", ["content", "text"]],
      ["INVALID_CHARACTERS", ["destinations", 0, "settings", "title"]]
    ])
  })

  const settingsCases: ReadonlyArray<readonly [string, string, Record<string, unknown>, boolean]> = [
    ["threads topic tag of 50 characters", "threads", { topicTag: "a".repeat(50) }, true],
    ["threads topic tag of 51 characters", "threads", { topicTag: "a".repeat(51) }, false],
    ["threads topic tag with a dot", "threads", { topicTag: "a.b" }, false],
    ["threads topic tag with an ampersand", "threads", { topicTag: "a&b" }, false],
    ["threads reply control", "threads", { replyControl: "mentioned_only" }, true],
    ["instagram 3 collaborators", "instagram", { collaborators: ["a", "b", "c"] }, true],
    ["instagram 4 collaborators", "instagram", { collaborators: ["a", "b", "c", "d"] }, false],
    ["bluesky 3 languages", "bluesky", { langs: ["en", "fr", "pt-BR"] }, true],
    ["bluesky 4 languages", "bluesky", { langs: ["en", "fr", "de", "es"] }, false],
    ["linkedin LOGGED_IN", "linkedin", { visibility: "LOGGED_IN" }, true],
    ["linkedin FRIENDS", "linkedin", { visibility: "FRIENDS" }, false],
    ["x reply settings", "x", { replySettings: "following" }, true],
    ["x unknown reply settings", "x", { replySettings: "nobody" }, false],
    ["x reply to a post id", "x", { inReplyToTweetId: "1880028106020515840" }, true],
    ["x reply to something that is not a post id", "x", { inReplyToTweetId: "abc" }, false],
    ["bluesky self-labels and 8 tags", "bluesky", { labels: ["graphic-media"], tags: ["a", "b", "c", "d", "e", "f", "g", "h"] }, true],
    ["bluesky 9 tags", "bluesky", { tags: ["a", "b", "c", "d", "e", "f", "g", "h", "i"] }, false],
    ["tiktok without privacy level", "tiktok", {}, false],
    ["tiktok branded content in public", "tiktok", { privacyLevel: "PUBLIC_TO_EVERYONE", brandContentToggle: true, isAigc: true }, true],
    ["tiktok branded content kept private", "tiktok", { privacyLevel: "SELF_ONLY", brandContentToggle: true }, false]
  ]
  for (const [name, platform, settings, ok] of settingsCases) {
    it(`${name}: ${ok ? "valid" : "INVALID_SETTINGS"}`, () => {
      const media = platform === "tiktok" ? [mp4()] : platform === "instagram" ? [jpeg()] : []
      const issues = issuesOf({ content: { text: "hi", media }, destinations: [{ platform, accountId: "1", settings }] })
      assert.deepStrictEqual(issues.map((issue) => issue.code), ok ? [] : ["INVALID_SETTINGS"])
    })
  }

  it("the built-in schemas decode on their own, for the publishers", () => {
    const decoded = Schema.decodeUnknownSync(Settings.YoutubeSettings)({ title: "t", privacyStatus: "unlisted", madeForKids: true, tags: ["a"] })
    assert.strictEqual(decoded.privacyStatus, "unlisted")
  })
})

describe("validatePost: schedule", () => {
  const post = (schedule: unknown) => ({ content: { text: "hi" }, destinations: [{ platform: "x", accountId: "1" }], schedule })

  it("reports a schedule that resolves to no instant", () => {
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [{ _tag: "local", localTime: "2026-03-29T01:30", timeZone: "Europe/London" }, "does not exist in Europe/London"],
      [{ _tag: "local", localTime: "2026-03-29T09:00", timeZone: "Mars/Olympus" }, "is not an IANA time zone"],
      [{ _tag: "instant", at: "2026-03-29T09:00" }, "has no offset"],
      [{ _tag: "weekly" }, ""]
    ]
    for (const [schedule, text] of cases) {
      const issues = issuesOf(post(schedule))
      assert.strictEqual(issues[0]?.code, "INVALID_SCHEDULE", JSON.stringify(schedule))
      assert.strictEqual(issues[0]?.path[0], "schedule")
      assert.include(issues[0]?.message, text)
    }
    const before = { now: new Date("2026-03-01T00:00:00Z") }
    assert.deepStrictEqual(issuesOf(post({ _tag: "local", localTime: "2026-03-29T01:30", timeZone: "Europe/London", onNonexistent: "shift_forward" }), before), [])
  })

  it("refuses a schedule more than a minute in the past (SCHEDULE_IN_PAST); a minute of clock skew is now", () => {
    const now = new Date("2026-06-01T12:00:00Z")
    const instant = (at: string) => post({ _tag: "instant", at })
    assert.deepStrictEqual(issuesOf(instant("2026-06-01T11:59:00Z"), { now }), [])
    assert.deepStrictEqual(issuesOf(instant("2026-06-01T12:00:00Z"), { now }), [])
    const past = issuesOf(instant("2026-06-01T11:58:59Z"), { now })
    assert.deepStrictEqual(past.map((i) => [i.code, i.path]), [["SCHEDULE_IN_PAST", ["schedule"]]])
    assert.include(past[0]?.message, "in the past")
    const local = issuesOf(post({ _tag: "local", localTime: "2026-06-01T07:00", timeZone: "America/New_York" }), { now })
    assert.deepStrictEqual(local.map((i) => i.code), ["SCHEDULE_IN_PAST"])
    // No schedule means now.
    assert.deepStrictEqual(issuesOf({ content: { text: "hi" }, destinations: [{ platform: "x", accountId: "1" }] }, { now }), [])
    // A stored post's schedule was checked when it was stored; time has passed since.
    const stored = { ...instant("2026-06-01T10:00:00Z"), id: "p1", status: "scheduled", createdAt: "2026-06-01T09:00:00Z", updatedAt: "2026-06-01T09:00:00Z" }
    assert.notInclude(issuesOf(stored, { now }).map((i) => i.code), "SCHEDULE_IN_PAST")
  })

  it("refuses impossible dates instead of rolling them over", () => {
    for (const schedule of [
      { _tag: "instant", at: "2027-02-30T10:00:00Z" },
      { _tag: "instant", at: "2027-04-31T10:00:00+02:00" },
      { _tag: "local", localTime: "2027-02-30T10:00", timeZone: "Europe/Paris" }
    ]) {
      const issues = issuesOf(post(schedule))
      assert.deepStrictEqual(issues.map((i) => i.code), ["INVALID_SCHEDULE"], JSON.stringify(schedule))
      assert.include(issues[0]?.message, "is not a real date-time")
    }
    assert.include(issuesOf(post({ _tag: "instant", at: "next tuesday" }))[0]?.message, "is not an ISO 8601 date-time")
  })

  it("native scheduling: Facebook needs 10 minutes to 30 days of lead time", () => {
    const now = new Date("2026-06-01T12:00:00Z")
    const facebook = (at: string) => ({ content: { text: "hi" }, destinations: [{ platform: "facebook", accountId: "1" }], schedule: { _tag: "instant", at } })
    const native = { scheduling: "native", now } as const
    assert.deepStrictEqual(issuesOf(facebook("2026-06-01T12:10:00Z"), native), [])
    const early = issuesOf(facebook("2026-06-01T12:09:59Z"), native)[0]
    assert.deepStrictEqual([early?.code, early?.limit, early?.actual], ["SCHEDULING_NOT_SUPPORTED", 600, 599])
    assert.strictEqual(issuesOf(facebook("2026-07-02T12:00:00Z"), native)[0]?.code, "SCHEDULING_NOT_SUPPORTED")
    const story = { ...facebook("2026-06-02T12:00:00Z"), content: { media: [jpeg()] }, destinations: [{ platform: "facebook", accountId: "1", placement: "story" }] }
    assert.strictEqual(issuesOf(story, native)[0]?.code, "SCHEDULING_NOT_SUPPORTED")
  })
})

describe("validatePost: YouTube's own scheduling", () => {
  const now = new Date("2026-06-01T12:00:00Z")
  const native = { scheduling: "native", now } as const
  const video = validMedia("video", Rules.youtube.placements[0]!.media.video!)
  const youtube = (privacyStatus: string, where: "settings" | "override" = "settings") => ({
    content: { text: "description", media: [video] },
    destinations: [{
      platform: "youtube",
      accountId: "1",
      settings: { title: "Launch", madeForKids: false, ...(where === "settings" ? { privacyStatus } : { privacyStatus: "private" }) },
      ...(where === "override" ? { override: { settings: { privacyStatus } } } : {})
    }],
    schedule: { _tag: "instant", at: "2026-06-02T12:00:00Z" }
  })

  // One row per privacy: publishAt only with private (the rule's own source says so).
  for (const [privacy, allowed] of [["private", true], ["public", false], ["unlisted", false]] as const) {
    it(`publishAt with privacyStatus ${privacy}: ${allowed ? "valid" : "SCHEDULING_NOT_SUPPORTED at the setting"}`, () => {
      const issues = issuesOf(youtube(privacy), native)
      if (allowed) assert.deepStrictEqual(issues, [])
      else {
        assert.deepStrictEqual(issues.map((i) => [i.code, i.path]), [["SCHEDULING_NOT_SUPPORTED", ["destinations", 0, "settings", "privacyStatus"]]])
        assert.include(issues[0]!.message, `privacyStatus is "private"; this one is "${privacy}"`)
      }
    })
  }

  it("the setting is judged after overrides, and the worker's scheduling needs none of it", () => {
    const issues = issuesOf(youtube("public", "override"), native)
    assert.deepStrictEqual(issues.map((i) => [i.code, i.path]), [["SCHEDULING_NOT_SUPPORTED", ["destinations", 0, "override", "settings", "privacyStatus"]]])
    assert.deepStrictEqual(issuesOf(youtube("public"), { now }), [])
  })
})

describe("validatePost: bad input", () => {
  const cases: ReadonlyArray<readonly [string, unknown, ReadonlyArray<ReadonlyArray<string | number>>]> = [
    ["undefined", undefined, [[]]],
    ["a string", "post", [[]]],
    ["an array", [], [[]]],
    ["no content and no destinations", {}, [["content"], ["destinations"]]],
    ["destinations not an array", { content: {}, destinations: {} }, [["destinations"]]],
    ["no destinations", { content: { text: "hi" }, destinations: [] }, [["destinations"]]],
    ["an unknown top-level field", { content: { text: "hi" }, destinations: [{ platform: "x", accountId: "1" }], title: "x" }, [["title"]]],
    ["text not a string", { content: { text: 5 }, destinations: [{ platform: "x", accountId: "1" }] }, [["content", "text"]]],
    ["an unknown media field", { content: { media: [{ ...jpeg(), colour: "red" }] }, destinations: [{ platform: "x", accountId: "1" }] }, [["content", "media", 0, "colour"]]],
    ["a negative size", { content: { media: [jpeg({ sizeBytes: -1 })] }, destinations: [{ platform: "x", accountId: "1" }] }, [["content", "media", 0, "sizeBytes"]]],
    ["a destination without account", { content: { text: "hi" }, destinations: [{ platform: "x" }] }, [["destinations", 0, "accountId"]]],
    ["a bad platform id", { content: { text: "hi" }, destinations: [{ platform: "X!", accountId: "1" }] }, [["destinations", 0, "platform"]]],
    ["a bad override", { content: { text: "hi" }, platformOverrides: { x: { text: 1 } }, destinations: [{ platform: "x", accountId: "1" }] }, [["platformOverrides", "x", "text"]]]
  ]
  for (const [name, input, paths] of cases) {
    it(`${name}: INVALID_POST at ${JSON.stringify(paths)}`, () => {
      const result = Validation.validatePost(input)
      assert.isFalse(result.valid)
      assert.deepStrictEqual(result.issues.map((issue) => issue.code), paths.map(() => "INVALID_POST"))
      assert.deepStrictEqual(result.issues.map((issue) => issue.path), paths)
    })
  }

  it("a getter that throws still gives a report", () => {
    const hostile = { content: { text: "hi" }, get destinations(): unknown { throw new Error("boom") } }
    const result = Validation.validatePost(hostile)
    assert.isFalse(result.valid)
    assert.strictEqual(result.issues[0]?.code, "INVALID_POST")
  })
})

describe("validatePost: custom platforms through options", () => {
  const mastodonRules: Rules.PlatformRules = {
    platform: "mastodon",
    displayName: "Mastodon",
    defaultPlacement: "feed",
    placements: [{
      placement: "feed",
      source: "https://docs.joinmastodon.org/user/posting/",
      text: [{ max: 500, counting: "graphemes", source: "instance default" }],
      textAllowed: true,
      mediaRequired: false,
      minMedia: 0,
      maxMedia: 4,
      mixedMedia: false,
      media: { image: { maxCount: 4, mimeTypes: ["image/*"], maxSizeBytes: 16 * 1024 * 1024, source: "instance default" } }
    }],
    threads: true,
    nativeScheduling: { supported: true, source: "scheduled_at" }
  }
  const MastodonSettings = Schema.Struct({ visibility: Schema.Literals(["public", "unlisted", "private", "direct"]) })
  const options: Validation.ValidateOptions = {
    rules: { mastodon: mastodonRules },
    settingsSchemas: { mastodon: MastodonSettings },
    extraValidators: {
      mastodon: ({ destination }) =>
        destination.settings.visibility === "direct" && !destination.parts[0].text.includes("@")
          ? [{ code: "INVALID_SETTINGS", message: "a direct post must mention someone", path: ["destinations", 0, "settings", "visibility"] }]
          : []
    }
  }
  const post = (text: string, settings: unknown) => ({ content: { text }, destinations: [{ platform: "mastodon", accountId: "1", settings }] })

  it("applies the custom rules, settings schema and validator", () => {
    assert.deepStrictEqual(issuesOf(post("hello", { visibility: "public" }), options), [])
    assert.deepStrictEqual(summary(post("a".repeat(501), { visibility: "public" }), options), [["CONTENT_TOO_LONG", ["content", "text"]]])
    assert.deepStrictEqual(summary(post("hi", { visibility: "everyone" }), options), [["INVALID_SETTINGS", ["destinations", 0, "settings", "visibility"]]])
    const fromValidator = issuesOf(post("hi", { visibility: "direct" }), options)
    assert.deepStrictEqual(fromValidator.map((issue) => [issue.code, issue.platform, issue.destinationIndex, issue.accountId]), [["INVALID_SETTINGS", "mastodon", 0, "1"]])
    // Without the options, the platform is unknown.
    assert.deepStrictEqual(summary(post("hello", { visibility: "public" })), [["UNKNOWN_PLATFORM", ["destinations", 0, "platform"]]])
  })

  it("a validator that throws or returns garbage gives VALIDATOR_FAILED", () => {
    const throwing = { ...options, extraValidators: { mastodon: () => { throw new Error("bug") } } }
    assert.deepStrictEqual(summary(post("hi", { visibility: "public" }), throwing), [["VALIDATOR_FAILED", ["destinations", 0]]])
    const garbage = { ...options, extraValidators: { mastodon: () => [{ code: "MY_CODE", message: "?", path: [] }] as any } }
    assert.deepStrictEqual(summary(post("hi", { visibility: "public" }), garbage), [["VALIDATOR_FAILED", ["destinations", 0]]])
    const notAList = { ...options, extraValidators: { mastodon: () => "nope" as any } }
    assert.deepStrictEqual(summary(post("hi", { visibility: "public" }), notAList), [["VALIDATOR_FAILED", ["destinations", 0]]])
  })

  it("malformed plugin rules fail their destination only", () => {
    const broken = { ...mastodonRules, placements: [{ ...mastodonRules.placements[0]!, text: [{ max: 10, counting: "words" as any, source: "?" }] }] }
    const post = { content: { text: "hi" }, destinations: [{ platform: "mastodon", accountId: "1", settings: { visibility: "public" } }, { platform: "x", accountId: "2" }, { platform: "x", accountId: "2" }] }
    const issues = issuesOf(post, { ...options, rules: { mastodon: broken } })
    assert.deepStrictEqual(issues.map((issue) => [issue.code, issue.destinationIndex]), [["VALIDATOR_FAILED", 0], ["DUPLICATE_DESTINATION", 2]])
    assert.include(issues[0]?.message, "unknown text counting \"words\"")
  })

  it("replacing a built-in row opts in to larger limits (X Premium)", () => {
    const premium = { ...Rules.x, placements: [{ ...Rules.x.placements[0]!, text: [{ ...Rules.x.placements[0]!.text[0]!, max: 25_000 }] }] }
    const long = { content: { text: "a".repeat(1000) }, destinations: [{ platform: "x", accountId: "1" }] }
    assert.strictEqual(issuesOf(long)[0]?.code, "CONTENT_TOO_LONG")
    assert.deepStrictEqual(issuesOf(long, { rules: { x: premium } }), [])
  })
})
