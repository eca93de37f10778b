#!/usr/bin/env bash
# Fetch, start and stop a real Elasticsearch on 127.0.0.1 for the tests and examples.
#
#   es.sh fetch            download the Maven Central artifact and unpack it (cached)
#   es.sh start            single node on 127.0.0.1:$SBERT_ES_PORT (default 9250)
#   es.sh stop             stop it (data kept); es.sh wipe: stop and delete its data
#   es.sh port             print the single node's HTTP port
#   es.sh cluster-start    2 nodes on loopback (a: master+data :9260, b: data :9261)
#   es.sh cluster-stop-node a|b
#   es.sh cluster-stop
#
# Elasticsearch refuses to run as root, so when run as root it creates the system
# user $SBERT_ES_USER (default "sbert-es") and starts the nodes as that user.
set -euo pipefail
VERSION="${SBERT_ES_VERSION:-8.19.7}"
if [ "$(id -u)" = "0" ]; then DEFAULT_HOME=/var/cache/sbert-plugins-elasticsearch  # the ES user must reach it
else DEFAULT_HOME="${XDG_CACHE_HOME:-$HOME/.cache}/sbert_plugins/elasticsearch"; fi
HOME_DIR="${SBERT_ES_HOME:-$DEFAULT_HOME}"
DIST="$HOME_DIR/elasticsearch-$VERSION"
RUN="$HOME_DIR/run"
PORT="${SBERT_ES_PORT:-9250}"
ES_USER="${SBERT_ES_USER:-sbert-es}"
HEAP="${SBERT_ES_HEAP:-512m}"
NAME="${SBERT_ES_NAME:-single}"          # several single nodes can run side by side
EXTRA="${SBERT_ES_EXTRA_CONFIG:-}"       # extra elasticsearch.yml lines (tests use it)
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$VERSION:zip"

log() { echo "es.sh: $*" >&2; }

fetch() {
  [ -x "$DIST/bin/elasticsearch" ] && return 0
  command -v mvn >/dev/null || { log "mvn is needed to fetch $ARTIFACT"; exit 1; }
  mkdir -p "$HOME_DIR"
  log "fetching $ARTIFACT from Maven Central"
  mvn -q dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$HOME_DIR" -Dmdep.overWriteIfNewer=true
  if command -v unzip >/dev/null; then
    (cd "$HOME_DIR" && unzip -q -o "elasticsearch-$VERSION.zip")
  else  # keep the executable bits, which Python's zipfile drops
    python3 - "$HOME_DIR/elasticsearch-$VERSION.zip" "$HOME_DIR" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as zf:
    for info in zf.infolist():
        path = zf.extract(info, sys.argv[2])
        mode = info.external_attr >> 16
        if mode:
            os.chmod(path, mode)
PY
  fi
  [ -x "$DIST/bin/elasticsearch" ] || { log "unpacking failed: no $DIST/bin/elasticsearch"; exit 1; }
}

java_home() {
  if [ -n "${ES_JAVA_HOME:-}" ]; then echo "$ES_JAVA_HOME"; return; fi
  for d in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/openjdk-17; do
    [ -x "$d/bin/java" ] && { echo "$d"; return; }
  done
  dirname "$(dirname "$(readlink -f "$(command -v java)")")"
}

as_user() {  # run a command as the non-root user when we are root
  if [ "$(id -u)" = "0" ]; then
    id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
    chown -R "$ES_USER" "$HOME_DIR"
    runuser -u "$ES_USER" -- env "$@"
  else
    env "$@"
  fi
}

start_node() {  # name http_port transport_port roles seed_hosts initial_masters
  local name=$1 http=$2 transport=$3 roles=$4 seeds=$5 masters=$6
  local dir="$RUN/$name"
  mkdir -p "$dir/data" "$dir/logs" "$dir/config"
  cp -r "$DIST/config/." "$dir/config/"
  {
    echo "cluster.name: sbert-plugins-test"
    echo "node.name: $name"
    echo "node.roles: $roles"
    echo "network.host: 127.0.0.1"
    echo "http.port: $http"
    echo "transport.port: $transport"
    echo "path.data: $dir/data"
    echo "path.logs: $dir/logs"
    echo "xpack.security.enabled: false"
    echo "cluster.routing.allocation.disk.threshold_enabled: false"
    echo "action.destructive_requires_name: false"
    [ -n "$EXTRA" ] && printf '%s\n' "$EXTRA"
    if [ -z "$seeds" ]; then echo "discovery.type: single-node"; else
      echo "discovery.seed_hosts: [$seeds]"; echo "cluster.initial_master_nodes: [$masters]"; fi
  } > "$dir/config/elasticsearch.yml"
  sed -i "s/^-Xms.*/-Xms$HEAP/; s/^-Xmx.*/-Xmx$HEAP/" "$dir/config/jvm.options" 2>/dev/null || true
  if [ "$(id -u)" = "0" ]; then chown -R "$ES_USER" "$RUN" 2>/dev/null || true; fi
  as_user ES_JAVA_HOME="$(java_home)" ES_PATH_CONF="$dir/config" ES_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" \
    "$DIST/bin/elasticsearch" -d -p "$dir/pid" > "$dir/logs/stdout.log" 2>&1 \
    || { log "node $name failed to start:"; tail -20 "$dir/logs/stdout.log" >&2; exit 1; }
}

wait_http() {  # port [status]
  local port=$1 status=${2:-yellow}
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/_cluster/health?wait_for_status=$status&timeout=1s" >/dev/null 2>&1; then
      log "ready on 127.0.0.1:$port"; return 0
    fi
    sleep 1
  done
  log "no answer on 127.0.0.1:$port after 120s; logs in $RUN"; tail -30 "$RUN"/*/logs/*.log >&2 || true; exit 1
}

stop_node() {
  local pidfile="$RUN/$1/pid"
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

case "${1:-}" in
  fetch) fetch ;;
  start)
    fetch
    if curl -fsS "http://127.0.0.1:$PORT/_cluster/health" >/dev/null 2>&1; then log "already running on $PORT"; exit 0; fi
    # data is kept across stop/start, so a restarted node still has what was indexed
    start_node "$NAME" "$PORT" $((PORT + 100)) "[master, data, ingest]" "" ""
    wait_http "$PORT" ;;
  stop) stop_node "$NAME" ;;
  wipe) stop_node "$NAME"; rm -rf "${RUN:?}/$NAME" ;;
  port) echo "$PORT" ;;
  cluster-start)
    fetch
    rm -rf "$RUN/node-a" "$RUN/node-b"
    start_node node-a 9260 9360 "[master, data, ingest]" '"127.0.0.1:9360", "127.0.0.1:9361"' '"node-a"'
    start_node node-b 9261 9361 "[data, ingest]" '"127.0.0.1:9360", "127.0.0.1:9361"' '"node-a"'
    wait_http 9260 yellow
    for _ in $(seq 1 60); do
      n=$(curl -fsS "http://127.0.0.1:9260/_cat/nodes?h=name" 2>/dev/null | wc -l)
      [ "$n" -ge 2 ] && { log "2-node cluster up"; exit 0; }
      sleep 1
    done
    log "node-b did not join"; exit 1 ;;
  cluster-stop-node) stop_node "node-${2:?a or b}" ;;
  cluster-stop) stop_node node-b; stop_node node-a ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
