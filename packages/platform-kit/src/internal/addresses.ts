/**
 * Which IP addresses are not public: a table of ranges per category, checked
 * with Node's `net.BlockList`, and the IPv4 address embedded in the IPv6
 * transition forms (mapped, compatible, NAT64, 6to4), which reach the IPv4
 * host they embed.
 */
import { BlockList, isIP, isIPv4 } from "node:net"

/** Why an address is not public. */
export type Category =
  | "loopback"
  | "unspecified"
  | "private"
  | "shared"
  | "link-local"
  | "unique-local"
  | "metadata"
  | "multicast"
  | "broadcast"
  | "reserved"

type Range = readonly [address: string, prefix: number]

// Checked in this order: the first category whose ranges hold the address wins
// (metadata before link-local and unique-local, broadcast before reserved).
const table: ReadonlyArray<readonly [Category, ReadonlyArray<Range>, ReadonlyArray<Range>]> = [
  // [category, IPv4 ranges, IPv6 ranges]
  ["metadata", [
    ["169.254.169.254", 32], // AWS, GCP, Azure, OpenStack, DigitalOcean…
    ["169.254.170.2", 32], // AWS ECS task metadata
    ["100.100.100.200", 32], // Alibaba Cloud
    ["168.63.129.16", 32], // Azure wire server (a public address that answers only inside Azure)
    ["192.0.0.192", 32] // Oracle Cloud
  ], [
    ["fd00:ec2::254", 128], // AWS IMDS over IPv6
    ["fd00:ec2::23", 128] // AWS ECS/EKS Pod Identity
  ]],
  ["unspecified", [["0.0.0.0", 8]], [["::", 128]]],
  ["loopback", [["127.0.0.0", 8]], [["::1", 128]]],
  ["private", [["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16]], [
    ["fec0::", 10], // site-local (deprecated, still routed inside some networks)
    ["64:ff9b:1::", 48] // NAT64 for local use (RFC 8215)
  ]],
  ["shared", [["100.64.0.0", 10]], []], // carrier-grade NAT (RFC 6598)
  ["link-local", [["169.254.0.0", 16]], [["fe80::", 10]]],
  ["unique-local", [], [["fc00::", 7]]],
  ["multicast", [["224.0.0.0", 4]], [["ff00::", 8]]],
  ["broadcast", [["255.255.255.255", 32]], []],
  ["reserved", [
    ["192.0.0.0", 24], // IETF protocol assignments
    ["192.0.2.0", 24], // TEST-NET-1
    ["192.88.99.0", 24], // 6to4 relay anycast (deprecated)
    ["198.18.0.0", 15], // benchmarking
    ["198.51.100.0", 24], // TEST-NET-2
    ["203.0.113.0", 24], // TEST-NET-3
    ["240.0.0.0", 4] // future use
  ], [
    ["100::", 64], // discard-only
    ["2001::", 32], // Teredo: tunnels to an address we cannot check
    ["2001:db8::", 32], // documentation
    ["3fff::", 20], // documentation
    ["2001:10::", 28], // ORCHID
    ["2001:20::", 28] // ORCHIDv2
  ]]
]

const lists: ReadonlyArray<readonly [Category, BlockList]> = table.map(([category, v4, v6]) => {
  const list = new BlockList()
  for (const [address, prefix] of v4) list.addSubnet(address, prefix, "ipv4")
  for (const [address, prefix] of v6) list.addSubnet(address, prefix, "ipv6")
  return [category, list] as const
})

/** The 16 bytes of an IPv6 address (any valid spelling, with or without a trailing dotted quad). */
const ipv6Bytes = (address: string): Uint8Array | undefined => {
  const zone = address.indexOf("%")
  const text = zone >= 0 ? address.slice(0, zone) : address
  if (isIP(text) !== 6) return undefined
  let head = text
  const lastColon = text.lastIndexOf(":")
  const last = text.slice(lastColon + 1)
  if (isIPv4(last)) {
    const [a, b, c, d] = last.split(".").map(Number) as [number, number, number, number]
    head = text.slice(0, lastColon + 1) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [left, right] = head.includes("::") ? head.split("::") as [string, string] : [head, undefined]
  const groups = (part: string | undefined) => (part === undefined || part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)))
  const l = groups(left)
  const r = groups(right)
  const all = right === undefined ? l : [...l, ...new Array(8 - l.length - r.length).fill(0), ...r]
  const out = new Uint8Array(16)
  all.forEach((group, i) => {
    out[2 * i] = group >> 8
    out[2 * i + 1] = group & 0xff
  })
  return out
}

const v4 = (b: Uint8Array, offset: number) => `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`
const zeros = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0)

/**
 * The IPv4 address an IPv6 address reaches, for the transition forms:
 * IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`,
 * IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::`.
 */
export const embeddedIPv4 = (address: string): string | undefined => {
  const b = ipv6Bytes(address)
  if (b === undefined) return undefined
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(b, 12)
  if (zeros(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zeros(b, 10, 12)) return v4(b, 12)
  // ::/96 except :: and ::1, which are their own categories.
  if (zeros(b, 0, 12) && !(zeros(b, 12, 15) && (b[15] === 0 || b[15] === 1))) return v4(b, 12)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(b, 4, 12)) return v4(b, 12)
  if (b[0] === 0x20 && b[1] === 0x02) return v4(b, 2)
  return undefined
}

/**
 * The category of an IP address that is not public, or `undefined` for a
 * public one (and for anything that is not an IP address).
 */
export const categorize = (address: string): Category | undefined => {
  const family = isIP(address)
  if (family === 0) {
    // A zone index (fe80::1%eth0) is link-local scoped by definition.
    const zone = address.indexOf("%")
    return zone > 0 && isIP(address.slice(0, zone)) === 6 ? categorize(address.slice(0, zone)) ?? "link-local" : undefined
  }
  const type = family === 4 ? "ipv4" : "ipv6"
  for (const [category, list] of lists) if (list.check(address, type)) return category
  if (family === 6) {
    const embedded = embeddedIPv4(address)
    if (embedded !== undefined) return categorize(embedded)
  }
  return undefined
}
