#!/usr/bin/env bash
# Runs a TypeScript script of an example or a bench with the Node that `npm start` uses (Node 22, see
# node22.sh), after building the workspace packages it imports. The scripts in examples/*/package.json and
# bench/package.json go through it, so `npm run …` works on a machine whose own Node is 20.
#   bash ../../.ci/node.sh src/walkthrough.ts [args…]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$here/.ci/node22.sh"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
if [ -n "${npm_package_name:-}" ] && [ -z "${OMNIPOST_SKIP_BUILD:-}" ]; then
  # The package's workspace dependencies (their dist/), not the package itself.
  (cd "$here" && npx turbo run build --filter="${npm_package_name}^..." --output-logs=errors-only >&2)
fi
exec node --experimental-strip-types --no-warnings=ExperimentalWarning "$@"
