#!/usr/bin/env bash
# Installs what this workspace needs on a fresh Debian machine, skipping what is there:
# Node.js 24 when the machine's Node is older than 22.13 (from the npm registry's `node`
# package, into /usr/local so that it comes first in PATH and the distribution's node is left
# alone), pnpm (through npm), Debian's Chromium and redis-server with --browser (for the
# browser and cluster tests), then the workspace's packages from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=false
for arg in "$@"; do
  case "$arg" in
    --browser) with_browser=true ;;
    *) echo "setup.sh: unknown option '$arg' (expected --browser)" >&2; exit 2 ;;
  esac
done

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

node_is_recent() {
  node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 22 || (major === 22 && minor >= 13) ? 0 : 1)' 2>/dev/null
}
if ! node_is_recent; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup.sh: Node.js >= 22.13 (24 recommended) and npm are required (found: $(node --version 2>/dev/null || echo none))" >&2
    exit 1
  fi
  echo "setup.sh: installing Node.js 24 into /usr/local (found: $(node --version 2>/dev/null || echo none))"
  as_root npm install -g --prefix /usr/local node@24
  hash -r
  if ! node_is_recent; then
    echo "setup.sh: Node.js 24 was installed in /usr/local/bin, but '$(command -v node)' comes first in PATH" >&2
    exit 1
  fi
fi

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup.sh: installing pnpm"
  as_root npm install -g --prefix /usr/local pnpm@12.21.0
  hash -r
fi

missing=()
if $with_browser; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing Debian's ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

pnpm install --frozen-lockfile
