import { registerHooks } from "node:module"
registerHooks({ resolve(s, c, n) { try { return n(s, c) } catch (e) { if (s.startsWith(".") && s.endsWith(".js") && c.parentURL?.endsWith(".ts")) return n(`${s.slice(0, -3)}.ts`, c); throw e } } })
const T = await import("/work/wt-kitfakes/packages/core/src/TextCount.ts")
const fill = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
let r = 0
const u = (t: string) => t.slice(0, -1) + String.fromCharCode(0x4e00 + (r++ % 20000))
const time = (f: () => unknown) => { const ts = []; for (let i = 0; i < 9; i++) { const s = performance.now(); f(); ts.push(performance.now() - s) } return ts.sort((a, b) => a - b)[4]!.toFixed(2) }
for (const [name, unit] of [["dotted", "a."], ["cjk", "中".repeat(99) + "."], ["a.com", "a.com/"]] as const) {
  const text = fill(unit, 100_000)
  console.log(name, "scan", time(() => T.mayHoldUrl(u(text))), "pieces", time(() => { let n = 0; for (const p of T.twitterPieces(u(text))) n += p.length }), "pieces+scan", time(() => { let n = 0; for (const p of T.twitterPieces(u(text))) if (T.mayHoldUrl(p)) n++ }), "links", time(() => T.distinctLinks(u(text), undefined, 5)), "linksInf", time(() => T.distinctLinks(u(text))))
}
