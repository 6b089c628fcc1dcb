#!/usr/bin/env bash
# Installs what this workspace needs on a fresh Debian machine, skipping what is there:
# pnpm (through npm), Debian's Chromium with --browser (for the browser tests), then
# the workspace's packages from the lockfile.
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

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup.sh: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup.sh: installing pnpm"
  as_root npm install -g pnpm@12.21.0
fi

if $with_browser && ! command -v chromium >/dev/null 2>&1; then
  echo "setup.sh: installing Debian's chromium"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi

pnpm install --frozen-lockfile
