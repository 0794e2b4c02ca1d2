/** What the benches that start a server share: a free port, a process's resident memory, the first key it prints. */
import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process"
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
/**
 * CPU time a process has used so far (user + system, all its threads), in
 * milliseconds: /proc/PID/stat's utime and stime, in clock ticks of 10 ms
 * (Linux's USER_HZ). Divided by the requests served between two readings, a
 * figure much less sensitive to the machine's load than requests per second.
 */
export const cpuMs = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 10
}

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

/**
 * The processes a bench started, each in its own process group (`detached`),
 * so that `stopAll` ends them and whatever they started in turn, on success,
 * error or timeout alike.
 */
export class Started {
  private readonly children = new Map<ChildProcess, string>()

  /** Spawns `args` with this Node in a new process group, remembered under `name`. */
  spawn(name: string, args: ReadonlyArray<string>, options: SpawnOptions = {}): ChildProcess {
    const child = spawn(process.execPath, args, { ...options, detached: true })
    this.children.set(child, name)
    child.once("exit", () => this.children.delete(child))
    return child
  }

  /** The names of the processes still running. */
  running(): ReadonlyArray<string> {
    return [...this.children.values()]
  }

  /** SIGTERM to each group, SIGKILL to those still there after `graceMs`; resolves once all have exited. */
  async stopAll(graceMs = 5_000): Promise<void> {
    await Promise.all([...this.children.keys()].map((child) => stopGroup(child, graceMs)))
  }
}

/** SIGTERM to `child`'s process group, SIGKILL after `graceMs`; resolves when `child` has exited. */
export const stopGroup = (child: ChildProcess, graceMs = 5_000) =>
  new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done()
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, name)
      } catch {
        // The group is gone already.
      }
    }
    const timer = setTimeout(() => signal("SIGKILL"), graceMs)
    child.once("exit", () => {
      clearTimeout(timer)
      // Anything the child left behind in its group goes too.
      signal("SIGKILL")
      done()
    })
    signal("SIGTERM")
  })

/** The stdout of `child` until it exits with 0, or why not. */
export const outputOf = (child: ChildProcess) =>
  new Promise<string>((done, fail) => {
    let output = ""
    child.stdout!.on("data", (chunk) => (output += chunk))
    child.once("exit", (code, signal) =>
      code === 0 ? done(output) : fail(new Error(`exited with ${code ?? signal}: ${output}`))
    )
  })

/** Resolves when `child` prints a line containing `text`; fails when it exits first. */
export const printed = (child: ChildProcess, text: string) =>
  new Promise<void>((done, fail) => {
    let output = ""
    child.stdout!.on("data", (chunk) => {
      output += chunk
      if (output.includes(text)) done()
    })
    child.once("exit", (code) => fail(new Error(`exited with ${code} before printing "${text}": ${output}`)))
  })
