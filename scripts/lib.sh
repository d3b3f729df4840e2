# shellcheck shell=bash disable=SC2034  # globals are used by the scripts sourcing this
# Shared helpers for the switchboard scripts. Source it, don't run it:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Everything downloaded lives under $SB_ROOT/.cache, runtime data under
# $SB_ROOT/.data (both git-ignored).

if [[ -n "${_SB_LIB_SOURCED:-}" ]]; then
  return 0
fi
_SB_LIB_SOURCED=1

# ---------------------------------------------------------------------------
# Locations and pinned versions
# ---------------------------------------------------------------------------

SB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SB_CACHE="$SB_ROOT/.cache"
SB_DATA="$SB_ROOT/.data"
SB_BIN="$SB_CACHE/bin/switchboard"
SB_LOG_TAG="${SB_LOG_TAG:-$(basename "${0:-switchboard}" .sh)}"

ES_VERSION="8.19.21"
ES_ZIP_SHA256="215d5f3dbf0609a149f6218a9e47b6ae2df34ebbff3c5754e35f15a5e5393c8a"
ES_BASE="$SB_CACHE/elasticsearch/$ES_VERSION"
ES_HOME_DIR="$ES_BASE/elasticsearch-$ES_VERSION"
ES_USER="${ES_USER:-switchboard-es}"        # only used when running as root
ES_HEAP="${ES_HEAP:-512m}"
ES_START_TIMEOUT="${ES_START_TIMEOUT:-120}" # seconds
ES_STOP_TIMEOUT="${ES_STOP_TIMEOUT:-30}"    # seconds
MVN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

ORT_VERSION="1.24.1"
ORT_TGZ_SHA256="57181cf6e6e711b155c5b942d591fd63ded0b5de5c4922d51fd994e7f6ac2772"
ORT_SO_SHA256="53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4"
ORT_DIR="$SB_CACHE/onnxruntime/$ORT_VERSION/lib"
ORT_LIB="$ORT_DIR/libonnxruntime.so.1"

# Silero VAD (MIT), the ONNX model from the PyPI wheel silero-vad; the wheel's
# silero_vad/data/silero_vad.onnx runs at 8 and 16 kHz (see models/vad/*/card.json).
VAD_VERSION="6.2.3"
VAD_WHL_URL="https://files.pythonhosted.org/packages/84/ef/9099037ed6f180ea33220178df4107112c0ce2bf5fb4d6f6ab19db2844ed/silero_vad-$VAD_VERSION-py3-none-any.whl"
VAD_WHL_SHA256="7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8"
VAD_ONNX_SHA256="1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
VAD_DIR="$SB_ROOT/models/vad/silero-v$VAD_VERSION"
VAD_MODEL="$VAD_DIR/model.onnx"

# Debian packages the product needs at runtime / in tests.
SB_APT_PACKAGES=(espeak-ng sox sip-tester wrk sctk)

# Swagger UI for /docs, served by the binary itself (no CDN needed).
SWAGGER_VERSION="5.17.14"
SWAGGER_TGZ_SHA256="c57badf459aa6e65cc036b3862d0502a63f9a22546407ffcb0e64f85f816bb28"
SWAGGER_DIR="$SB_CACHE/swagger-ui/$SWAGGER_VERSION"

export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$SB_CACHE/pip}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

# go_env_setup -- keep Go module downloads under .cache/go/mod too, unless the
# user configured GOMODCACHE themselves. Keeps GOFLAGS from `go env -w`.
go_env_setup() {
  need_cmd go
  local -a v
  local goflags
  mapfile -t v < <(go env GOPATH GOMODCACHE GOFLAGS)
  if [[ -z "${GOMODCACHE:-}" && "${v[1]:-}" == "${v[0]%%:*}/pkg/mod" ]]; then
    export GOMODCACHE="$SB_CACHE/go/mod"
    goflags="${v[2]:-}"
    case " $goflags " in
      *" -modcacherw "*) ;;
      *) goflags="${goflags:+$goflags }-modcacherw" ;; # so rm -rf .cache works
    esac
    export GOFLAGS="$goflags"
  fi
}

# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------

# Messages never fail: a closed output (e.g. `make run | tee` after Ctrl-C)
# must not abort a cleanup that still has processes to stop.
say() { printf '==> [%s] %s\n' "$SB_LOG_TAG" "$*" >&2 2>/dev/null || true; }
warn() { printf '==> [%s] WARNING: %s\n' "$SB_LOG_TAG" "$*" >&2 2>/dev/null || true; }
die() {
  printf '==> [%s] ERROR: %s\n' "$SB_LOG_TAG" "$*" >&2
  exit 1
}

need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "required command '$c' not found in PATH"
  done
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# verify_sha256 FILE EXPECTED -- dies on mismatch
verify_sha256() {
  local got
  got="$(sha256_of "$1")"
  [[ "$got" == "$2" ]] || die "sha256 mismatch for $1: expected $2, got $got"
}

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

# port_in_use PORT -- true when something accepts TCP connections on 127.0.0.1:PORT
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port -- print a currently free TCP port on 127.0.0.1
free_port() {
  local p
  if command -v python3 >/dev/null 2>&1 &&
    p="$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null)" && [[ -n "$p" ]]; then
    echo "$p"
    return 0
  fi
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    if ! port_in_use "$p"; then
      echo "$p"
      return 0
    fi
  done
  die "could not find a free TCP port"
}

# ---------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------

pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# apt_ensure PKG... -- install missing Debian packages (apt-get update only if needed)
apt_ensure() {
  local missing=() p
  if ! command -v dpkg-query >/dev/null 2>&1; then
    warn "dpkg not available (not Debian?); please install manually: $*"
    return 0
  fi
  for p in "$@"; do
    pkg_installed "$p" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0

  local -a sudo=()
  if ! is_root; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      warn "missing Debian packages: ${missing[*]} (not root and no passwordless sudo; skipping)"
      return 0
    fi
  fi
  say "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
    die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
  for p in "${missing[@]}"; do
    pkg_installed "$p" || die "package $p still not installed after apt-get install"
  done
}

# ---------------------------------------------------------------------------
# Elasticsearch
# ---------------------------------------------------------------------------

# es_download -- ensure $ES_HOME_DIR holds the verified Elasticsearch distribution
es_download() {
  local marker="$ES_BASE/.verified"
  if [[ -f "$marker" && "$(cat "$marker")" == "$ES_ZIP_SHA256" && -x "$ES_HOME_DIR/bin/elasticsearch" ]]; then
    return 0
  fi
  need_cmd mvn unzip sha256sum
  local dl="$ES_BASE/download" unpack="$ES_BASE/unpack"
  local zip="$dl/elasticsearch-$ES_VERSION.zip"
  rm -rf "$dl" "$unpack" "$ES_HOME_DIR" "$marker"
  mkdir -p "$dl"
  say "downloading Elasticsearch $ES_VERSION from Maven Central (~100 MB)..."
  mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$SB_CACHE/m2" \
    "$MVN_DEPENDENCY_PLUGIN:copy" \
    -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
    -DoutputDirectory="$dl" >&2 ||
    die "mvn download of Elasticsearch $ES_VERSION failed"
  [[ -f "$zip" ]] || die "expected $zip after mvn download"
  verify_sha256 "$zip" "$ES_ZIP_SHA256"
  say "unpacking Elasticsearch into ${ES_HOME_DIR#"$SB_ROOT"/}"
  mkdir -p "$unpack"
  unzip -q "$zip" -d "$unpack" || die "unzip of $zip failed"
  [[ -x "$unpack/elasticsearch-$ES_VERSION/bin/elasticsearch" ]] ||
    die "unexpected layout in $zip"
  mv "$unpack/elasticsearch-$ES_VERSION" "$ES_HOME_DIR"
  rm -rf "$dl" "$unpack" "$SB_CACHE/m2/org/elasticsearch/distribution"
  echo "$ES_ZIP_SHA256" >"$marker"
}

# es_java_home -- print the JDK home for ES_JAVA_HOME (Java 17+)
es_java_home() {
  if [[ -n "${ES_JAVA_HOME:-}" ]]; then
    echo "$ES_JAVA_HOME"
    return 0
  fi
  local java
  java="$(command -v java 2>/dev/null)" || die "java not found (install a Java 17 JDK/JRE)"
  java="$(readlink -f "$java")"
  echo "${java%/bin/java}"
}

# es_pid_alive PIDFILE -- true when PIDFILE names a running Elasticsearch started from $ES_HOME_DIR
es_pid_alive() {
  local pidfile="$1" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  _sb_running "$pid" || return 1
  # Every stage of the launch (setsid, setpriv, env, bin/elasticsearch, the
  # java CLI launcher) carries our ES home in its command line.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$ES_HOME_DIR"
}

# es_healthy PORT -- true when an ES on 127.0.0.1:PORT is at least yellow
es_healthy() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    "http://127.0.0.1:$1/_cluster/health?wait_for_status=yellow&timeout=1s" 2>/dev/null)" || true
  [[ "$code" == "200" ]]
}

# _sb_running PID -- process exists and is not a zombie
_sb_running() {
  ps -o stat= -p "$1" 2>/dev/null | awk '$1 !~ /^Z/ {f = 1} END {exit !f}'
}

# _sb_session_alive SID -- any non-zombie process left in session SID?
_sb_session_alive() {
  ps -o stat= -s "$1" 2>/dev/null | awk '$1 !~ /^Z/ {f = 1} END {exit !f}'
}

# es_start DATA_DIR PORT LOGFILE [PIDFILE]
#   Starts Elasticsearch in the background (its own session), writes its pid to
#   PIDFILE (default: DATA_DIR.pid, exported as ES_PIDFILE), and waits until the
#   cluster is yellow. ES's own log files go to $ES_LOGS_DIR (default DATA_DIR-logs),
#   its stdout/stderr to LOGFILE. When running as root, ES runs as $ES_USER.
es_start() {
  local data_dir="${1:?es_start DATA_DIR PORT LOGFILE [PIDFILE]}" port="${2:?port}" logfile="${3:?logfile}"
  data_dir="${data_dir%/}"
  local pidfile="${4:-$data_dir.pid}"
  local logs_dir="${ES_LOGS_DIR:-$data_dir-logs}"
  need_cmd curl setsid
  es_download

  if port_in_use "$port"; then
    die "port $port is already in use; cannot start Elasticsearch there (set ES_PORT to another port)"
  fi
  if es_pid_alive "$pidfile"; then
    die "an Elasticsearch from $pidfile (pid $(cat "$pidfile")) is still running; stop it first"
  fi

  local java_home transport_port
  java_home="$(es_java_home)"
  [[ -x "$java_home/bin/java" ]] || die "ES_JAVA_HOME=$java_home has no bin/java"
  transport_port="$(free_port)"
  mkdir -p "$data_dir" "$logs_dir" "$(dirname "$logfile")" "$(dirname "$pidfile")"
  : >"$logfile"

  local -a runas=()
  if is_root; then
    need_cmd setpriv
    if ! id -u "$ES_USER" >/dev/null 2>&1; then
      say "creating system user $ES_USER (Elasticsearch refuses to run as root)"
      useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER" ||
        die "useradd $ES_USER failed"
    fi
    # ES writes its keystore into config/, so the whole home must be its own.
    if [[ -n "$(find "$ES_HOME_DIR" ! -user "$ES_USER" -print -quit)" ]]; then
      chown -R "$ES_USER:" "$ES_HOME_DIR"
    fi
    chown -R "$ES_USER:" "$data_dir" "$logs_dir"
    # setpriv execs in place (unlike runuser, which forks a watcher that
    # SIGKILLs its child 2 s after forwarding SIGTERM -- too soon for ES).
    runas=(setpriv "--reuid=$ES_USER" "--regid=$ES_USER" --init-groups --)
    local d p
    for d in "$ES_HOME_DIR/bin/elasticsearch" "$data_dir" "$logs_dir"; do
      if ! "${runas[@]}" test -r "$d" -a -x "$d"; then
        # Find the first directory on the way down that it cannot enter.
        p="$d"
        while [[ "$p" != / ]] && ! "${runas[@]}" test -x "$(dirname "$p")"; do
          p="$(dirname "$p")"
        done
        die "user $ES_USER (Elasticsearch) cannot access $d because of the permissions of $p; put the checkout in a world-readable place (e.g. under /work or /srv) or run: chmod o+rx $p"
      fi
    done
    "${runas[@]}" test -w "$data_dir" -a -w "$logs_dir" ||
      die "user $ES_USER cannot write to $data_dir / $logs_dir"
  fi

  say "starting Elasticsearch $ES_VERSION on 127.0.0.1:$port (heap $ES_HEAP, data ${data_dir#"$SB_ROOT"/}, log ${logfile#"$SB_ROOT"/})"
  (
    cd "$ES_HOME_DIR" || exit 1
    exec setsid "${runas[@]}" env -u ES_PATH_CONF -u JAVA_HOME \
      ES_JAVA_HOME="$java_home" \
      ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${ES_EXTRA_JAVA_OPTS:-}" \
      "$ES_HOME_DIR/bin/elasticsearch" \
      -E "path.data=$data_dir" \
      -E "path.logs=$logs_dir" \
      -E "http.port=$port" \
      -E "transport.port=$transport_port" \
      -E network.host=127.0.0.1 \
      -E discovery.type=single-node \
      -E xpack.security.enabled=false \
      -E cluster.routing.allocation.disk.threshold_enabled=false
  ) </dev/null >>"$logfile" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  ES_PIDFILE="$pidfile"
  export ES_PIDFILE

  local start=$SECONDS
  while :; do
    if es_healthy "$port"; then
      say "Elasticsearch is up on http://127.0.0.1:$port (pid $pid, $((SECONDS - start)) s)"
      return 0
    fi
    if ! _sb_running "$pid"; then
      warn "Elasticsearch exited during startup; last lines of $logfile:"
      tail -n 40 "$logfile" >&2 || true
      rm -f "$pidfile"
      die "Elasticsearch failed to start"
    fi
    if ((SECONDS - start >= ES_START_TIMEOUT)); then
      warn "Elasticsearch not healthy after ${ES_START_TIMEOUT} s; last lines of $logfile:"
      tail -n 40 "$logfile" >&2 || true
      es_stop "$pidfile"
      die "Elasticsearch failed to start"
    fi
    sleep 1 || true
  done
}

# es_stop PIDFILE -- SIGTERM the ES we started, wait up to $ES_STOP_TIMEOUT s,
# then SIGKILL its whole session. No-op when PIDFILE is missing or stale.
es_stop() {
  local pidfile="${1:?es_stop PIDFILE}" pid
  if ! es_pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  pid="$(cat "$pidfile")"
  say "stopping Elasticsearch (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local start=$SECONDS
  while _sb_session_alive "$pid"; do
    if ((SECONDS - start >= ES_STOP_TIMEOUT)); then
      warn "Elasticsearch did not stop within ${ES_STOP_TIMEOUT} s; sending SIGKILL"
      pkill -KILL -s "$pid" 2>/dev/null || true
      sleep 1 || true
      break
    fi
    sleep 0.5 || true # (a Ctrl-C may kill the sleep)
  done
  # Reap it if it was our own background job.
  wait "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  say "Elasticsearch stopped"
}

# ---------------------------------------------------------------------------
# ONNX Runtime
# ---------------------------------------------------------------------------

# swagger_download -- ensure $SWAGGER_DIR holds swagger-ui.css and
# swagger-ui-bundle.js from the npm package swagger-ui-dist (sha256-checked).
swagger_download() {
  if [[ -f "$SWAGGER_DIR/swagger-ui.css" && -f "$SWAGGER_DIR/swagger-ui-bundle.js" ]]; then
    return 0
  fi
  need_cmd npm tar sha256sum
  local tgz="swagger-ui-dist-$SWAGGER_VERSION.tgz" tmp
  mkdir -p "$SB_CACHE"
  tmp="$(mktemp -d "$SB_CACHE/tmp-swagger.XXXXXX")"
  say "downloading Swagger UI $SWAGGER_VERSION (swagger-ui-dist from npm)..."
  (cd "$tmp" && npm pack --silent --ignore-scripts --loglevel=error \
    --cache "$tmp/npm-cache" "swagger-ui-dist@$SWAGGER_VERSION" >/dev/null) || {
    rm -rf "$tmp"
    die "npm pack swagger-ui-dist@$SWAGGER_VERSION failed"
  }
  if [[ "$(sha256_of "$tmp/$tgz")" != "$SWAGGER_TGZ_SHA256" ]]; then
    rm -rf "$tmp"
    die "sha256 mismatch for $tgz (expected $SWAGGER_TGZ_SHA256)"
  fi
  tar -xzf "$tmp/$tgz" -C "$tmp" package/swagger-ui.css package/swagger-ui-bundle.js || {
    rm -rf "$tmp"
    die "could not extract Swagger UI from $tgz"
  }
  mkdir -p "$SWAGGER_DIR"
  mv -f "$tmp/package/swagger-ui.css" "$tmp/package/swagger-ui-bundle.js" "$SWAGGER_DIR/"
  rm -rf "$tmp"
  say "Swagger UI $SWAGGER_VERSION installed at ${SWAGGER_DIR#"$SB_ROOT"/}"
}

# ort_download -- ensure $ORT_LIB (ONNX Runtime shared library, linux x64)
ort_download() {
  if [[ -f "$ORT_LIB" && -L "$ORT_DIR/libonnxruntime.so" ]] &&
    [[ "$(sha256_of "$ORT_LIB")" == "$ORT_SO_SHA256" ]]; then
    return 0
  fi
  [[ "$(uname -s)/$(uname -m)" == "Linux/x86_64" ]] ||
    die "ONNX Runtime download is only set up for Linux x86_64 (this is $(uname -s)/$(uname -m))"
  need_cmd npm tar sha256sum
  local member="package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
  local tgz="onnxruntime-node-$ORT_VERSION.tgz" tmp
  mkdir -p "$SB_CACHE"
  tmp="$(mktemp -d "$SB_CACHE/tmp-ort.XXXXXX")"
  say "downloading ONNX Runtime $ORT_VERSION (onnxruntime-node from npm, ~85 MB)..."
  (cd "$tmp" && npm pack --silent --ignore-scripts --loglevel=error \
    --cache "$tmp/npm-cache" "onnxruntime-node@$ORT_VERSION" >/dev/null) ||
    {
      rm -rf "$tmp"
      die "npm pack onnxruntime-node@$ORT_VERSION failed"
    }
  [[ -f "$tmp/$tgz" ]] || {
    rm -rf "$tmp"
    die "npm pack did not produce $tgz"
  }
  if [[ "$(sha256_of "$tmp/$tgz")" != "$ORT_TGZ_SHA256" ]]; then
    rm -rf "$tmp"
    die "sha256 mismatch for $tgz (expected $ORT_TGZ_SHA256)"
  fi
  tar -xzf "$tmp/$tgz" -C "$tmp" "$member" || {
    rm -rf "$tmp"
    die "could not extract $member from $tgz"
  }
  if [[ "$(sha256_of "$tmp/$member")" != "$ORT_SO_SHA256" ]]; then
    rm -rf "$tmp"
    die "sha256 mismatch for libonnxruntime.so.1 (expected $ORT_SO_SHA256)"
  fi
  mkdir -p "$ORT_DIR"
  install -m 0755 "$tmp/$member" "$ORT_LIB.tmp"
  mv -f "$ORT_LIB.tmp" "$ORT_LIB"
  ln -sfn "libonnxruntime.so.1" "$ORT_DIR/libonnxruntime.so"
  rm -rf "$tmp"
  say "ONNX Runtime $ORT_VERSION installed at ${ORT_LIB#"$SB_ROOT"/}"
}

# vad_download -- ensure $VAD_MODEL (Silero VAD ONNX model, git-ignored; its
# card.json beside it is committed) from the pinned PyPI wheel.
vad_download() {
  if [[ -f "$VAD_MODEL" && "$(sha256_of "$VAD_MODEL")" == "$VAD_ONNX_SHA256" ]]; then
    return 0
  fi
  need_cmd curl unzip sha256sum
  local member="silero_vad/data/silero_vad.onnx"
  local whl="silero_vad-$VAD_VERSION-py3-none-any.whl" tmp
  mkdir -p "$SB_CACHE" "$VAD_DIR"
  tmp="$(mktemp -d "$SB_CACHE/tmp-vad.XXXXXX")"
  say "downloading Silero VAD $VAD_VERSION (silero-vad wheel from PyPI, ~11 MB)..."
  curl -fsSL --retry 3 -o "$tmp/$whl" "$VAD_WHL_URL" || {
    rm -rf "$tmp"
    die "download of $VAD_WHL_URL failed"
  }
  if [[ "$(sha256_of "$tmp/$whl")" != "$VAD_WHL_SHA256" ]]; then
    rm -rf "$tmp"
    die "sha256 mismatch for $whl (expected $VAD_WHL_SHA256)"
  fi
  unzip -q -o "$tmp/$whl" "$member" -d "$tmp" || {
    rm -rf "$tmp"
    die "could not extract $member from $whl"
  }
  if [[ "$(sha256_of "$tmp/$member")" != "$VAD_ONNX_SHA256" ]]; then
    rm -rf "$tmp"
    die "sha256 mismatch for $member (expected $VAD_ONNX_SHA256)"
  fi
  # Same file system as the target, so the rename is atomic: a reader never
  # sees half a model.
  install -m 0644 "$tmp/$member" "$VAD_MODEL.tmp"
  mv -f "$VAD_MODEL.tmp" "$VAD_MODEL"
  rm -rf "$tmp"
  say "Silero VAD $VAD_VERSION installed at ${VAD_MODEL#"$SB_ROOT"/}"
}

# ---------------------------------------------------------------------------
# Python training package (optional)
# ---------------------------------------------------------------------------

# venv_ensure -- create .venv and install training[test] when training/ exists
venv_ensure() {
  local pyproject="$SB_ROOT/training/pyproject.toml"
  [[ -f "$pyproject" ]] || return 0
  local venv="$SB_ROOT/.venv" stamp want
  stamp="$venv/.switchboard-stamp"
  want="$(sha256_of "$pyproject")"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  need_cmd python3
  if [[ ! -x "$venv/bin/python" ]]; then
    say "creating Python virtualenv .venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  fi
  say "installing training[test] into .venv"
  "$venv/bin/pip" install -q -e "$SB_ROOT/training[test]" || die "pip install -e training[test] failed"
  echo "$want" >"$stamp"
}

# ---------------------------------------------------------------------------
# Development Elasticsearch (shared by run.sh and es-dev.sh)
# ---------------------------------------------------------------------------

ES_DEV_DATA="$SB_DATA/elasticsearch"
ES_DEV_PIDFILE="$SB_DATA/elasticsearch.pid"
ES_DEV_LOG="$SB_DATA/elasticsearch.log"

# es_dev_ensure PORT -- make sure the dev ES (data in .data/elasticsearch) answers
# on PORT. Reuses one that our pid file says we started; otherwise starts it.
# Sets ES_DEV_STARTED=1 when this call started it, 0 when it was reused.
es_dev_ensure() {
  local port="${1:?es_dev_ensure PORT}"
  ES_DEV_STARTED=0
  if es_pid_alive "$ES_DEV_PIDFILE"; then
    local pid start=$SECONDS
    pid="$(cat "$ES_DEV_PIDFILE")"
    until es_healthy "$port"; do
      if ! es_pid_alive "$ES_DEV_PIDFILE" || ((SECONDS - start >= ES_START_TIMEOUT)); then
        die "the dev Elasticsearch (pid $pid, $ES_DEV_PIDFILE) is running but not healthy on port $port; stop it with: scripts/es-dev.sh stop"
      fi
      ((SECONDS - start == 0)) && say "waiting for the running dev Elasticsearch (pid $pid) on port $port..."
      sleep 1 || true
    done
    say "reusing the running dev Elasticsearch on http://127.0.0.1:$port (pid $pid)"
    return 0
  fi
  # Set before starting, so a Ctrl-C during startup also stops it.
  ES_DEV_STARTED=1
  es_start "$ES_DEV_DATA" "$port" "$ES_DEV_LOG" "$ES_DEV_PIDFILE"
}
