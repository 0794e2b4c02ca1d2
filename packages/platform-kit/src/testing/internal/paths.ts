/**
 * A route pattern against a request path: `:name` segments captured
 * (URI-decoded), a last `*` segment taking the rest of the path (one or more
 * segments) as `params["*"]`; `undefined` when the path does not match.
 */
export const matchPath = (segments: ReadonlyArray<string>, path: string): Record<string, string> | undefined => {
  const parts = path.split("/").filter((part) => part !== "")
  // A last segment `*` takes the rest of the path (one or more segments), as `params["*"]`.
  if (segments.at(-1) === "*") {
    if (parts.length < segments.length) return undefined
    const params = matchPath(segments.slice(0, -1), `/${parts.slice(0, segments.length - 1).join("/")}`)
    return params === undefined ? undefined : { ...params, "*": parts.slice(segments.length - 1).map(decodeURIComponent).join("/") }
  }
  if (parts.length !== segments.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!
    if (segment.startsWith(":")) params[segment.slice(1)] = decodeURIComponent(parts[i]!)
    else if (segment !== parts[i]) return undefined
  }
  return params
}
