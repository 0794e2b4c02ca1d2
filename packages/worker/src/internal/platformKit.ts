/**
 * The worker's one door to `@omnipost/platform-kit`: the parts of the kit the
 * service itself uses (media sniffing, the URL guard for users' URLs and opening
 * them (`POST /v1/media/from-url`), rate-limit headers of webhook receivers). Platform packages use the kit for their APIs;
 * the worker only needs these four, and a change of the kit's surface shows up here.
 */
export { MediaSource, RateLimit, Sniff, UrlGuard } from "@omnipost/platform-kit"
