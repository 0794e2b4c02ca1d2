import { Validation, Schedule, Lifecycle } from "@omnipost/core"
const N = 20000
const time = (label: string, f: () => unknown) => {
  for (let i = 0; i < 2000; i++) f()
  const t = process.hrtime.bigint()
  for (let i = 0; i < N; i++) f()
  console.log(label.padEnd(30), (Number(process.hrtime.bigint() - t) / 1000 / N).toFixed(1), "µs")
}
const base = { content: { text: "Benchmark post: validated for Bluesky's 300 graphemes and stored #bench https://example.com" }, destinations: [{ platform: "bluesky", accountId: "acc_123" }] }
const now = new Date()
time("validatePost draft", () => Validation.validatePost({ ...base, status: "draft" } as any, { now }))
time("validatePost scheduled", () => Validation.validatePost({ ...base, schedule: { _tag: "instant", at: "2099-01-01T00:00:00Z" } } as any, { now }))
time("parseDateTime", () => Schedule.parseDateTime("2099-01-01T00:00:00Z"))
console.log(Object.keys(Schedule).join(","))
