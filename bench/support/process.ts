/** What the benches that start a server share: a free port, a process's resident memory, the first key it prints. */
import type { ChildProcess } from "node:child_process"
import { readFileSync } from "node:fs"
import { createServer } from "node:net"

/** A port free on 127.0.0.1 now (for a server started in another process). */
export const freePort = () =>
  new Promise<number>((done) => {
    const probe = createServer()
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => done(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** The resident memory of `pid` now and at its peak (VmRSS, VmHWM), in MB. */
export const memoryMb = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0)
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 }
}

/**
 * The first API key a freshly started `omnipost serve` prints on its stdout
 * (a first start creates it); fails when the server exits first.
 */
export const firstKey = (child: ChildProcess) =>
  new Promise<string>((done, fail) => {
    let output = ""
    child.stdout!.on("data", (chunk) => {
      output += chunk
      const match = /(omp_[0-9a-z]{40})/.exec(output)
      if (match) done(match[1]!)
    })
    child.once("exit", () => fail(new Error(`server exited:\n${output}`)))
  })
