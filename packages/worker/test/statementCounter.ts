/**
 * Which statements a client runs on PostgreSQL, read from the protocol it
 * sends (a `tcpProxy` tap): every execution of a statement, by its SQL text.
 * A named prepared statement is parsed once per connection and bound at each
 * execution; an unnamed one is parsed each time. So a test can say "this
 * request was one statement" without timing anything, whatever else (a
 * dispatcher's polling) runs on the same database meanwhile.
 */
export interface StatementCounter {
  /** A tap for `tcpProxy.make`: one parser per connection. */
  readonly tap: () => (chunk: Buffer) => void
  /** How many executions so far of statements whose text `matches`. */
  readonly count: (matches: (sql: string) => boolean) => number
}

const sslRequest = 80877103
const gssEncRequest = 80877104

export const make = (): StatementCounter => {
  const executed: Array<string> = []
  const tap = () => {
    let buffer = Buffer.alloc(0)
    let started = false
    const named = new Map<string, string>()
    const cString = (body: Buffer, from: number) => {
      const end = body.indexOf(0, from)
      return { value: body.toString("utf8", from, end), next: end + 1 }
    }
    return (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        if (!started) {
          // Startup messages have no type byte: a length, then a code (SSL and GSS requests come first).
          if (buffer.length < 8) return
          const length = buffer.readInt32BE(0)
          if (buffer.length < length) return
          const code = buffer.readInt32BE(4)
          if (code !== sslRequest && code !== gssEncRequest) started = true
          buffer = buffer.subarray(length)
          continue
        }
        if (buffer.length < 5) return
        const length = buffer.readInt32BE(1)
        if (buffer.length < 1 + length) return
        const type = String.fromCharCode(buffer[0]!)
        const body = buffer.subarray(5, 1 + length)
        buffer = buffer.subarray(1 + length)
        if (type === "P") {
          const name = cString(body, 0)
          const sql = cString(body, name.next).value
          if (name.value === "") executed.push(sql)
          else named.set(name.value, sql)
        } else if (type === "B") {
          const portal = cString(body, 0)
          const statement = cString(body, portal.next).value
          if (statement !== "") executed.push(named.get(statement) ?? "")
        } else if (type === "Q") {
          executed.push(cString(body, 0).value)
        }
      }
    }
  }
  return { tap, count: (matches) => executed.filter(matches).length }
}
