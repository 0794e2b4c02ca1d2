#!/usr/bin/env node
/** The `omnipost` executable. */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { run } from "./cli/Main.js"

run.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
