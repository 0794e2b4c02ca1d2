/**
 * The worker's one door to `@omnipost/platform-kit`: the parts of the kit the
 * service itself uses (media sniffing, the URL guard for users' URLs, rate-limit
 * headers of webhook receivers). Platform packages use the kit for their APIs;
 * the worker only needs these three, and a change of the kit's surface shows up here.
 */
export { RateLimit, Sniff, UrlGuard } from "@omnipost/platform-kit"
