#!/usr/bin/env node
/** The `omnipost` executable. */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Effect, Exit, Runtime } from "effect"
import { run } from "./cli/Main.js"

run.pipe(
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({
    // A shutdown asked for by SIGTERM/SIGINT that completed its cleanup is a success, not an error.
    teardown: (exit, onExit) =>
      Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)
  })
)
