/**
 * The URL guard's policy: why a URL or an address is refused, as pure
 * decisions compiled once from the options and shared by `UrlGuard.check`,
 * the connector (DNS answers) and the guarded client (each request and
 * redirect hop). `UrlGuard` is the public module; this one has no I/O.
 */
import { Schema } from "effect"
import type * as dns from "node:dns"
import { isIP } from "node:net"
import { type Category, categorize } from "./addresses.js"

/** Why a URL is refused. */
export const Reason = Schema.Literals([
  "invalid",
  "scheme",
  "credentials",
  "loopback",
  "unspecified",
  "private",
  "shared",
  "link-local",
  "unique-local",
  "metadata",
  "multicast",
  "broadcast",
  "reserved"
])
export type Reason = typeof Reason.Type

/**
 * A URL the guard refuses to fetch: which URL, which host and (when it was
 * resolved) which address, why, and how to allow it if it can be allowed.
 */
export class UrlRefused extends Schema.TaggedError<UrlRefused>()("UrlRefused", {
  /** The URL, with any password hidden. */
  url: Schema.String,
  host: Schema.String,
  /** The address the host resolved to, when the refusal came from DNS. */
  address: Schema.optional(Schema.String),
  reason: Reason,
  /** Whether `allowPrivate` (or `allowHosts`) would allow it. */
  allowable: Schema.Boolean,
  message: Schema.String
}) {}

/** A DNS lookup in the shape of `dns.lookup` (for tests: a resolver that answers what the test says). */
export type LookupFunction = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: Array<dns.LookupAddress>) => void
) => void

export interface Options {
  /** Allow loopback, private, shared, link-local, unique-local and unspecified addresses. Default false. */
  readonly allowPrivate?: boolean | undefined
  /**
   * Hosts fetched even when they are private: `name`, `name:port`, an IP
   * address, `[v6]:port`. Metadata endpoints stay refused.
   */
  readonly allowHosts?: ReadonlyArray<string> | undefined
  /**
   * How to allow private addresses, for messages. Default: "set allowPrivate:
   * true in the URL guard's options"; the worker says
   * "set OMNIPOST_ALLOW_PRIVATE_URLS=true".
   */
  readonly howToAllow?: string | undefined
  /** The DNS lookup; `dns.lookup` by default. */
  readonly lookup?: LookupFunction | undefined
}

/** Names that are the metadata service wherever they resolve. */
const metadataNames = new Set([
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.azure.internal",
  "metadata.tencentyun.com"
])

const localCategories: ReadonlySet<Reason> = new Set<Reason>([
  "loopback",
  "unspecified",
  "private",
  "shared",
  "link-local",
  "unique-local"
])

export const descriptions: Record<Reason, string> = {
  invalid: "it is not a valid absolute URL",
  scheme: "only http and https URLs are fetched",
  credentials: "URLs with a user name or password are not fetched",
  loopback: "a loopback address (this machine)",
  unspecified: "the unspecified address (this machine)",
  private: "a private network address",
  shared: "a carrier-grade NAT address (100.64.0.0/10)",
  "link-local": "a link-local address",
  "unique-local": "a unique-local IPv6 address (fc00::/7)",
  metadata: "a cloud metadata endpoint",
  multicast: "a multicast address",
  broadcast: "the broadcast address",
  reserved: "a reserved or documentation address"
}

/** Host as compared: lower case, no brackets, no trailing dot. */
export const normalizeHost = (host: string) => host.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase()

export const redact = (url: URL | string) => {
  if (typeof url === "string") return url.length > 2000 ? `${url.slice(0, 2000)}…` : url
  if (url.password === "" && url.username === "") return url.href
  const copy = new URL(url.href)
  copy.username = copy.username === "" ? "" : "…"
  copy.password = copy.password === "" ? "" : "…"
  return copy.href
}

/** A compiled policy: the pure decisions, shared by `check`, the connector and the client. */
export interface Policy {
  readonly options: Options
  /** Refusal for a host name or literal (before DNS), or undefined. */
  readonly host: (url: string, host: string, port: number) => UrlRefused | undefined
  /** Refusal for a resolved address of `host`, or undefined. */
  readonly address: (url: string, host: string, address: string) => UrlRefused | undefined
  readonly trusted: (host: string, port: number) => boolean
}

export const defaultPort = (protocol: string) => (protocol === "https:" ? 443 : 80)

export const compile = (options: Options): Policy => {
  const howToAllow = options.howToAllow ?? "set allowPrivate: true in the URL guard's options"
  const trustedHosts = new Set<string>()
  const trustedHostPorts = new Set<string>()
  for (const entry of options.allowHosts ?? []) {
    const parsed = (() => {
      try {
        return new URL(`http://${entry.trim()}`)
      } catch {
        return undefined
      }
    })()
    if (parsed === undefined) continue
    const host = normalizeHost(parsed.hostname)
    if (parsed.port === "") trustedHosts.add(host)
    else trustedHostPorts.add(`${host}:${parsed.port}`)
  }
  const trusted = (host: string, port: number) =>
    trustedHosts.has(normalizeHost(host)) || trustedHostPorts.has(`${normalizeHost(host)}:${port}`)

  const refuse = (url: string, host: string, reason: Reason, address?: string) => {
    const allowable = localCategories.has(reason)
    const what = address !== undefined && address !== host ? `${host} resolves to ${address}, ${descriptions[reason]}` : `${host} is ${descriptions[reason]}`
    const why = allowable
      ? `private and local addresses are refused so that a URL cannot reach this server's own network; to fetch them (local development, test fakes), ${howToAllow}`
      : "such addresses are never fetched"
    return new UrlRefused({
      url,
      host,
      ...(address !== undefined ? { address } : {}),
      reason,
      allowable,
      message: `refused to fetch ${url}: ${what}; ${why}`
    })
  }

  const judge = (url: string, host: string, category: Category | undefined, trustedHost: boolean, address?: string) => {
    if (category === undefined) return undefined
    if (category === "metadata") return refuse(url, host, category, address)
    if (trustedHost) return undefined
    if (localCategories.has(category) && options.allowPrivate === true) return undefined
    return refuse(url, host, category, address)
  }

  return {
    options,
    trusted,
    host: (url, rawHost, port) => {
      const host = normalizeHost(rawHost)
      if (metadataNames.has(host)) return refuse(url, host, "metadata")
      const isTrusted = trusted(host, port)
      // RFC 6761: localhost and its subdomains are this machine, whatever DNS says.
      if (host === "localhost" || host.endsWith(".localhost")) return judge(url, host, "loopback", isTrusted)
      return isIP(host) === 0 ? undefined : judge(url, host, categorize(host), isTrusted)
    },
    address: (url, host, address) => judge(url, host, categorize(address), false, address)
  }
}

export const refusalOfUrl = (policy: Policy, input: string | URL): UrlRefused | URL => {
  let url: URL
  try {
    url = typeof input === "string" ? new URL(input) : input
  } catch {
    const shown = redact(String(input))
    return new UrlRefused({
      url: shown,
      host: "",
      reason: "invalid",
      allowable: false,
      message: `refused to fetch ${shown}: ${descriptions.invalid}`
    })
  }
  const shown = redact(url)
  const host = normalizeHost(url.hostname)
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return new UrlRefused({ url: shown, host, reason: "scheme", allowable: false, message: `refused to fetch ${shown}: ${descriptions.scheme}` })
  }
  if (url.username !== "" || url.password !== "") {
    return new UrlRefused({ url: shown, host, reason: "credentials", allowable: false, message: `refused to fetch ${shown}: ${descriptions.credentials}` })
  }
  const port = url.port === "" ? defaultPort(url.protocol) : Number(url.port)
  return policy.host(shown, host, port) ?? url
}

