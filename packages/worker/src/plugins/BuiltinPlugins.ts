/**
 * The platforms this server runs without configuration. This is the one
 * worker source file that names platforms: everything else iterates over
 * plugins (these, plus the modules named in `OMNIPOST_PLUGINS` or the config
 * file, see `PluginLoader`).
 */
import type { Plugin } from "@omnipost/core"
import { plugin as bluesky } from "@omnipost/platform-bluesky"
import { plugin as linkedin } from "@omnipost/platform-linkedin"
import { facebookPlugin as facebook, instagramPlugin as instagram, threadsPlugin as threads } from "@omnipost/platform-meta"
import { plugin as tiktok } from "@omnipost/platform-tiktok"
import { plugin as x } from "@omnipost/platform-twitter"
import { plugin as youtube } from "@omnipost/platform-youtube"

export const builtinPlugins: ReadonlyArray<Plugin.Plugin> = [x, bluesky, linkedin, instagram, facebook, threads, youtube, tiktok]
