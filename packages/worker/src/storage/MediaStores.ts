/**
 * Which `MediaStorage` a server uses, from `OMNIPOST_MEDIA_STORE`:
 *
 * - absent, `local` or `file`: files under `<dataDir>/media` (one host);
 * - `s3://bucket/prefix`: an S3-compatible object store (`S3Storage`), which
 *   every API and scheduler process on every host shares.
 */
import { Config, Effect, Layer, Option } from "effect"
import { MediaStorage } from "./MediaStorage.js"
import * as S3Storage from "./S3Storage.js"

export const layerConfig = (localDirectory: string): Layer.Layer<MediaStorage, Config.ConfigError> =>
  Layer.unwrap(Effect.gen(function*() {
    const store = Option.getOrUndefined(yield* Config.option(Config.String("OMNIPOST_MEDIA_STORE")))?.trim()
    if (store === undefined || store === "" || store === "local" || store === "file") {
      return MediaStorage.layerLocal(localDirectory)
    }
    return S3Storage.layerConfig(store)
  }))
