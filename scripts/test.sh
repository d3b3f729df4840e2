#!/usr/bin/env bash
# `make test`: run all tests against a throwaway Elasticsearch.
#
#   - downloads / installs what the tests need (Debian packages, ES, ONNX Runtime,
#     training/.venv when training/pyproject.toml exists)
#   - starts Elasticsearch on a free port with data in a temp dir (always removed)
#   - exports SWITCHBOARD_TEST_ES_URL and ONNXRUNTIME_LIB
#   - go vet ./... ; go test -count=1 -timeout 20m $GOTESTFLAGS ./...
#   - pytest in training/ (when it exists; "no tests collected" counts as success)
#
# Last line of output: "N passed, N failed", where N counts Go test packages
# (`ok` / `FAIL<TAB>pkg` lines) plus pytest tests. A step that fails without
# producing any such result (go vet, a go test/pytest error before any package
# or test ran) counts as one failure. Exit status is non-zero if anything failed.
#
# Environment: GOTESTFLAGS (extra `go test` flags, e.g. "-run=TestFoo -v"),
#              PYTESTFLAGS (extra pytest flags), ES_HEAP (default 512m).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SB_ROOT"

apt_ensure "${SB_APT_PACKAGES[@]}"
es_download
ort_download
vad_download
venv_ensure
go_env_setup

tmp="$(mktemp -d "${TMPDIR:-/tmp}/switchboard-test.XXXXXX")"
chmod 755 "$tmp" # the Elasticsearch user must be able to reach its data dir
es_pidfile="$tmp/es-data.pid"

cleanup() {
  local rc=$?
  trap '' INT TERM HUP
  trap - EXIT
  es_stop "$es_pidfile" || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

port="$(free_port)"
es_start "$tmp/es-data" "$port" "$tmp/es.log" "$es_pidfile"
export SWITCHBOARD_TEST_ES_URL="http://127.0.0.1:$port"
# Integration tests fail rather than skip when the cluster is missing here.
export SWITCHBOARD_REQUIRE_ES=1
export SWITCHBOARD_REQUIRE_MODELS=1
export SWITCHBOARD_REQUIRE_SIPP=1   # SIPp (sip-tester) is installed above; its tests must run
export SWITCHBOARD_REQUIRE_ESPEAK=1 # likewise espeak-ng, for the prompt tests
export ONNXRUNTIME_LIB="$ORT_LIB"
say "SWITCHBOARD_TEST_ES_URL=$SWITCHBOARD_TEST_ES_URL"
say "ONNXRUNTIME_LIB=$ONNXRUNTIME_LIB"

passed=0
failed=0
failed_steps=()

# --- go vet ----------------------------------------------------------------
say "go vet ./..."
if ! go vet ./...; then
  failed=$((failed + 1))
  failed_steps+=("go vet")
fi

# --- go test ---------------------------------------------------------------
read -r -a gotestflags <<<"${GOTESTFLAGS:-}"
say "go test -count=1 -timeout 20m ${gotestflags[*]:+${gotestflags[*]} }./..."
gotest_rc=0
go test -count=1 -timeout 20m "${gotestflags[@]}" ./... 2>&1 | tee "$tmp/go-test.out" || gotest_rc=$?
read -r go_ok go_fail < <(awk '
  /^ok[ \t]+[^ \t]/ { ok[$2] = 1 }
  /^FAIL\t/          { fail[$2] = 1 }
  END {
    n = 0; m = 0
    for (p in ok) if (!(p in fail)) n++
    for (p in fail) m++
    print n, m
  }' "$tmp/go-test.out")
passed=$((passed + go_ok))
failed=$((failed + go_fail))
if ((go_fail > 0)); then
  failed_steps+=("go test ($go_fail package(s))")
elif ((gotest_rc != 0)); then
  failed=$((failed + 1))
  failed_steps+=("go test (exit $gotest_rc)")
fi

# --- pytest ----------------------------------------------------------------
if [[ -f training/pyproject.toml ]]; then
  read -r -a pytestflags <<<"${PYTESTFLAGS:-}"
  say "pytest (training/)"
  py_rc=0
  (cd training && "$SB_ROOT/.venv/bin/python" -m pytest -q "${pytestflags[@]}") 2>&1 |
    tee "$tmp/pytest.out" || py_rc=$?
  # Summary line, e.g. "3 passed, 1 failed, 2 errors in 0.52s"
  read -r py_ok py_fail < <(awk '
    / in [0-9.]+s/ && /(passed|failed|error|skipped|no tests ran|deselected)/ { line = $0 }
    END {
      p = 0; f = 0
      n = split(line, w, /[ ,=]+/)
      for (i = 2; i <= n; i++) {
        if (w[i] == "passed") p = w[i - 1] + 0
        if (w[i] == "failed") f += w[i - 1] + 0
        if (w[i] == "error" || w[i] == "errors") f += w[i - 1] + 0
      }
      print p, f
    }' "$tmp/pytest.out")
  passed=$((passed + py_ok))
  failed=$((failed + py_fail))
  if ((py_rc == 5)); then
    say "pytest: no tests collected (ok)"
  elif ((py_rc != 0)); then
    failed_steps+=("pytest (exit $py_rc)")
    ((py_fail > 0)) || failed=$((failed + 1))
  fi
fi

# Stop ES now so that the summary really is the last line of output.
es_stop "$es_pidfile"
if ((${#failed_steps[@]} > 0)); then
  warn "failed: $(printf '%s; ' "${failed_steps[@]}")"
fi
echo "$passed passed, $failed failed"
((${#failed_steps[@]} == 0))
