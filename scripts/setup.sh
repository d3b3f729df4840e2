#!/usr/bin/env bash
# Install / download everything switchboard needs, and build the binary.
# Idempotent: a second run reuses .cache/ and only rebuilds the Go binary.
#
# Environment:
#   SB_SKIP_BUILD=1   do not build .cache/bin/switchboard
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SB_ROOT"

apt_ensure "${SB_APT_PACKAGES[@]}"
es_download
ort_download
vad_download
swagger_download
venv_ensure

go_env_setup # Go modules are fetched by `go build` (never touches go.mod/go.sum)

if [[ "${SB_SKIP_BUILD:-0}" == 1 ]]; then
  :
elif [[ -d cmd/switchboard ]]; then
  say "building ${SB_BIN#"$SB_ROOT"/}"
  mkdir -p "$(dirname "$SB_BIN")"
  go build -o "$SB_BIN" ./cmd/switchboard || die "go build ./cmd/switchboard failed"
else
  warn "cmd/switchboard does not exist yet; skipping the server build"
fi
say "setup done"
