#!/usr/bin/env bash
# Fetch, start and stop a real Elasticsearch on 127.0.0.1 for the tests and examples.
#
#   es_server.sh [--version V] VERB [ARG]      (--version=V and -V V work too, before or after the verb)
#
#   fetch                  download the Maven Central integ-test-zip of version V and unpack it (cached)
#   start                  single node $SBERT_ES_NAME (default "single") on 127.0.0.1:$SBERT_ES_PORT (9250)
#   stop                   stop it (data kept); wipe: stop it and delete its data
#   port                   print the single node's HTTP port
#   pause [NAME]           SIGSTOP a node (default $SBERT_ES_NAME): it keeps its sockets but answers nothing
#   resume [NAME]          SIGCONT it
#   cluster-start          2 nodes on loopback (a: master+data :9260, b: data :9261), fresh data each time
#   cluster-stop-node a|b
#   cluster-stop
#   secure-start           single node with security: HTTPS (own CA), file-realm users, on :$SBERT_ES_SECURE_PORT
#                          (9290); prints the secure-info lines below
#   secure-stop            stop it (data, certificates and users kept); secure-wipe: stop and delete all of it
#   secure-info            print shell lines SBERT_ES_SECURE_URL=, SBERT_ES_CA_CERTS= (the CA's PEM, for
#                          ca_certs=), SBERT_ES_ADMIN_USER= (superuser), SBERT_ES_READER_USER= (reads
#                          $SBERT_ES_SECURE_INDICES only), SBERT_ES_WRITER_USER= (manages+writes them),
#                          SBERT_ES_SECURE_PASSWORD= (the password of all three)
#   java                   print the Java home that version V runs with
#   status                 list the nodes of every version with their state
#   stop-all               stop every node es_server.sh started, all versions
#
# Version: --version or SBERT_ES_VERSION, default 9.5.4; 8.19.7 (the earlier default) works the same way.
# Each version has its own unpacked distribution ($SBERT_ES_HOME/elasticsearch-V) and its own run dir
# ($SBERT_ES_HOME/run-V/NAME with config, data, logs), so versions install side by side and a data dir
# is never opened by another version (a marker file in each node dir guards that too).
# Java: ES_JAVA_HOME if set; else the newest JDK >= 21 found (/usr/lib/jvm/*, $JAVA_HOME, java on PATH)
# for 9.x, the oldest JDK >= 17 for 8.x; without one it stops and says what to install.
# Other settings: SBERT_ES_HOME (cache dir), SBERT_ES_HEAP (512m), SBERT_ES_NAME, SBERT_ES_PORT (transport
# is port+100), SBERT_ES_EXTRA_CONFIG (extra elasticsearch.yml lines), SBERT_ES_USER (see below),
# SBERT_ES_SECURE_NAME ("secure"), SBERT_ES_SECURE_PORT (9290), SBERT_ES_SECURE_PASSWORD
# ("sbert-test-pass", >= 6 chars), SBERT_ES_SECURE_INDICES (index pattern of the two limited roles,
# "sbert-*"), SBERT_ES_SECURE_SHIM=0 (no analysis shim, see shim_dist: then API keys fail).
# The integ-test zip holds only the modules apm, transport-netty4, x-pack-core, x-pack-security: no
# GET / (client.info() gives 405, ping() False; use GET /_nodes/_local), only the standard analyzer,
# no painless or ingest processors.
#
# Elasticsearch refuses to run as root, so when run as root it creates the system
# user $SBERT_ES_USER (default "sbert-es") and starts the nodes as that user.
set -euo pipefail

ARGS=()
VERSION="${SBERT_ES_VERSION:-9.5.4}"
while [ $# -gt 0 ]; do
  case "$1" in
    --version|-V) VERSION="${2:?--version needs a value}"; shift 2 ;;
    --version=*) VERSION="${1#--version=}"; shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
set -- "${ARGS[@]+"${ARGS[@]}"}"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "es_server.sh: bad version '$VERSION' (want X.Y.Z)" >&2; exit 2; }
MAJOR="${VERSION%%.*}"
case "$MAJOR" in 7) JAVA_NEED=11 ;; 8) JAVA_NEED=17 ;; *) JAVA_NEED=21 ;; esac

if [ "$(id -u)" = "0" ]; then DEFAULT_HOME=/var/cache/sbert-plugins-elasticsearch  # the ES user must reach it
else DEFAULT_HOME="${XDG_CACHE_HOME:-$HOME/.cache}/sbert_plugins/elasticsearch"; fi
HOME_DIR="${SBERT_ES_HOME:-$DEFAULT_HOME}"
DIST="$HOME_DIR/elasticsearch-$VERSION"
RUN="$HOME_DIR/run-$VERSION"
PORT="${SBERT_ES_PORT:-9250}"
ES_USER="${SBERT_ES_USER:-sbert-es}"
HEAP="${SBERT_ES_HEAP:-512m}"
NAME="${SBERT_ES_NAME:-single}"          # several single nodes can run side by side
EXTRA="${SBERT_ES_EXTRA_CONFIG:-}"       # extra elasticsearch.yml lines (tests use it)
SECURE_NAME="${SBERT_ES_SECURE_NAME:-secure}"
SECURE_PORT="${SBERT_ES_SECURE_PORT:-9290}"
SECURE_PASSWORD="${SBERT_ES_SECURE_PASSWORD:-sbert-test-pass}"
SECURE_INDICES="${SBERT_ES_SECURE_INDICES:-sbert-*}"
ADMIN_USER=sbert_admin READER_USER=sbert_reader WRITER_USER=sbert_writer
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$VERSION:zip"
CURL=(curl -sS --max-time 5)             # a paused node must not hang the script

log() { echo "es_server.sh: $*" >&2; }
die() { log "$*"; exit 1; }

fetch() {
  [ -x "$DIST/bin/elasticsearch" ] && return 0
  command -v mvn >/dev/null || die "mvn is needed to fetch $ARTIFACT"
  mkdir -p "$HOME_DIR"
  log "fetching $ARTIFACT from Maven Central"
  mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$HOME_DIR" -Dmdep.overWriteIfNewer=true \
    || die "could not fetch $ARTIFACT (is $VERSION on Maven Central? the integ-test-zip lacks some patch versions)"
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
  [ -x "$DIST/bin/elasticsearch" ] || die "unpacking failed: no $DIST/bin/elasticsearch"
  rm -f "$HOME_DIR/elasticsearch-$VERSION.zip"  # mvn keeps a copy in ~/.m2
}

# ---- Java -------------------------------------------------------------------------------------
java_major() {  # JAVA_HOME -> major version ("" if unknown)
  local v=""
  [ -f "$1/release" ] && v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$1/release")
  [ -n "$v" ] || v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | awk '/java.specification.version/ {print $3}')
  v=${v#1.}; echo "${v%%[!0-9]*}"
}

java_candidates() {  # one JAVA_HOME per line, symlinks resolved, no duplicates
  {
    for d in /usr/lib/jvm/* /opt/java/* /opt/jdk* "${JAVA_HOME:-}"; do
      [ -n "$d" ] && [ -x "$d/bin/java" ] && readlink -f "$d"
    done
    if command -v java >/dev/null; then dirname "$(dirname "$(readlink -f "$(command -v java)")")"; fi
  } | awk '!seen[$0]++'
}

java_install_hint() {  # what to install for Java >= $1
  local m
  for m in 25 21; do
    [ "$m" -ge "$1" ] || continue
    if command -v apt-cache >/dev/null &&
       apt-cache policy "openjdk-$m-jre-headless" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      echo "apt-get install openjdk-$m-jre-headless"; return
    fi
  done
  echo "a JDK >= $1 (this machine's apt sources have no openjdk-$1+; Debian 12 ships only openjdk-17:" \
       "use Eclipse Temurin $1 or 25 from https://adoptium.net, e.g. apt package temurin-$1-jdk from" \
       "packages.adoptium.net, or unpack its tarball under /usr/lib/jvm; Debian 13 / Ubuntu 24.04:" \
       "apt-get install openjdk-$1-jre-headless)"
}

java_home() {
  local need=$JAVA_NEED prefer=newest
  [ "$MAJOR" -ge 9 ] || prefer=oldest
  if [ -n "${ES_JAVA_HOME:-}" ]; then
    [ -x "$ES_JAVA_HOME/bin/java" ] || die "ES_JAVA_HOME=$ES_JAVA_HOME has no bin/java"
    echo "$ES_JAVA_HOME"; return
  fi
  local best="" best_m="" d m found=""
  while read -r d; do
    [ -n "$d" ] || continue
    m=$(java_major "$d"); [ -n "$m" ] || continue
    found="$found${found:+,} $m ($d)"
    [ "$m" -ge "$need" ] || continue
    if [ -z "$best" ] || { [ $prefer = newest ] && [ "$m" -gt "$best_m" ]; } ||
       { [ $prefer = oldest ] && [ "$m" -lt "$best_m" ]; }; then best=$d; best_m=$m; fi
  done < <(java_candidates)
  [ -n "$best" ] || die "Elasticsearch $VERSION needs Java >= $need (its integ-test zip bundles no JDK); found:${found:- none}${found:+ only}. Install $(java_install_hint $need), or set ES_JAVA_HOME to such a JDK."
  echo "$best"
}

# ---- nodes --------------------------------------------------------------------------------------
as_user() {  # run a command as the non-root user when we are root
  if [ "$(id -u)" = "0" ]; then
    id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
    runuser -u "$ES_USER" -- env "$@"
  else
    env "$@"
  fi
}

own() {  # hand paths to the ES user when we are root
  if [ "$(id -u)" = "0" ]; then
    id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
    chown -R "$ES_USER:" "$@"
  fi
}

node_pid() {  # name -> pid of the running node of this version (empty if none)
  local pidfile="$RUN/$1/pid"
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

check_version_marker() {  # node dir: refuse a dir made by another version
  local marker="$1/es-version"
  if [ -f "$marker" ] && [ "$(cat "$marker")" != "$VERSION" ]; then
    die "$1 holds Elasticsearch $(cat "$marker") data; not opening it with $VERSION (wipe it first)"
  fi
  echo "$VERSION" > "$marker"
}

node_version() {  # url [curl args...] -> version answering there ("" if none); 9.x's integ-test zip has
  local url=$1; shift  # no GET / (the rest-root module is left out), so ask the nodes info API
  { "${CURL[@]}" -f "$@" "$url/_nodes/_local/_none?filter_path=nodes.*.version" 2>/dev/null || true; } |
    sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p' | head -1
}

port_owner() {  # port scheme -> version answering there without credentials ("" if none)
  node_version "$2://127.0.0.1:$1" -k
}

port_in_use() {  # port -> true if something listens on 127.0.0.1:port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_node() {  # name http_port transport_port roles seed_hosts initial_masters [extra yml lines]
  local name=$1 http=$2 transport=$3 roles=$4 seeds=$5 masters=$6 more=${7:-}
  local dir="$RUN/$name" jh
  jh=$(java_home)
  if [ -n "$(node_pid "$name")" ]; then die "node $name ($VERSION) is running but not answering on :$http (paused? try: es_server.sh --version $VERSION resume $name)"; fi
  port_in_use "$http" && die "port $http is taken by another process (another version's node? try: es_server.sh status)"
  mkdir -p "$dir/data" "$dir/logs" "$dir/config"
  check_version_marker "$dir"
  rm -rf "$dir/tmp"; mkdir -p "$dir/tmp"
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
    [ -n "$more" ] && printf '%s\n' "$more" || echo "xpack.security.enabled: false"
    echo "cluster.routing.allocation.disk.threshold_enabled: false"
    echo "action.destructive_requires_name: false"
    [ -n "$EXTRA" ] && printf '%s\n' "$EXTRA"
    if [ -z "$seeds" ]; then echo "discovery.type: single-node"; else
      echo "discovery.seed_hosts: [$seeds]"; echo "cluster.initial_master_nodes: [$masters]"; fi
  } > "$dir/config/elasticsearch.yml"
  sed -i "s/^-Xms.*/-Xms$HEAP/; s/^-Xmx.*/-Xmx$HEAP/" "$dir/config/jvm.options" 2>/dev/null || true
  [ "$(type -t node_hook)" = function ] && node_hook "$dir" "$jh"
  own "$dir"
  as_user "$jh/bin/java" -cp "$DIST/lib/java-version-checker/*" \
    org.elasticsearch.tools.java_version_checker.JavaVersionChecker >&2 \
    || die "Java $(java_major "$jh") at $jh is too old for Elasticsearch $VERSION; install $(java_install_hint "$JAVA_NEED"), or set ES_JAVA_HOME to one"
  log "starting $name: Elasticsearch $VERSION, Java $(java_major "$jh") ($jh), :$http"
  START_TS=$(date +%s.%N)
  as_user ES_JAVA_HOME="$jh" ES_PATH_CONF="$dir/config" ES_TMPDIR="$dir/tmp" ES_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" \
    "$DIST/bin/elasticsearch" -d -p "$dir/pid" > "$dir/logs/stdout.log" 2>&1 \
    || { log "node $name failed to start:"; tail -20 "$dir/logs/stdout.log" >&2; exit 1; }
}

wait_http() {  # url [status] [curl args...]: wait for the cluster health
  local url=$1 status=${2:-yellow}; shift 2 || shift $#
  for _ in $(seq 1 180); do
    if "${CURL[@]}" -f "$@" "$url/_cluster/health?wait_for_status=$status&timeout=1s" >/dev/null 2>&1; then
      log "ready ($status) on $url after $(awk -v s="${START_TS:-0}" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')s"
      return 0
    fi
    sleep 1
  done
  log "no answer on $url after 180s; logs in $RUN"; tail -30 "$RUN"/*/logs/stdout.log "$RUN"/*/logs/*.log >&2 || true; exit 1
}

stop_pidfile() {  # pidfile
  local pidfile=$1
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  kill -CONT "$pid" 2>/dev/null || true  # a paused node cannot act on SIGTERM
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

stop_node() {  # name
  if [ ! -f "$RUN/$1/pid" ]; then
    local other
    for other in "$HOME_DIR"/run-*/"$1"/pid; do
      [ -f "$other" ] && kill -0 "$(cat "$other")" 2>/dev/null &&
        log "note: no node $1 of $VERSION, but ${other%/pid} runs (stop it with --version $(basename "$(dirname "$(dirname "$other")")" | sed 's/^run-//'))"
    done
    return 0
  fi
  stop_pidfile "$RUN/$1/pid"
}

signal_node() {  # signal name
  local pid; pid=$(node_pid "$2")
  [ -n "$pid" ] || die "no running node $2 of version $VERSION"
  kill "-$1" "$pid"; log "sent SIG$1 to $2 (pid $pid)"
}

# ---- secured node ----------------------------------------------------------------------------
make_certs() {  # dir: a CA and a node certificate (127.0.0.1, localhost), kept across restarts
  local t=$1
  [ -f "$t/ca.crt" ] && [ -f "$t/node.crt" ] && return 0
  command -v openssl >/dev/null || die "openssl is needed for secure-start"
  mkdir -p "$t"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=sbert-plugins test CA" \
    -keyout "$t/ca.key" -out "$t/ca.crt" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$t/node.key" -out "$t/node.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" > "$t/node.ext"
  openssl x509 -req -in "$t/node.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 3650 \
    -extfile "$t/node.ext" -out "$t/node.crt" 2>/dev/null
  rm -f "$t/node.csr" "$t/node.ext" "$t/ca.srl"
}

secure_hook() {  # node_dir java_home: certificates, roles and users into the node's config
  local dir=$1 jh=$2 sec="$1/secure"
  make_certs "$dir/tls"
  mkdir -p "$dir/config/certs" "$sec"
  cp "$dir/tls/ca.crt" "$dir/tls/node.crt" "$dir/tls/node.key" "$dir/config/certs/"
  cat > "$dir/config/roles.yml" <<EOF
sbert_read:
  cluster: [monitor]
  indices:
    - names: ["$SECURE_INDICES"]
      privileges: [read, view_index_metadata]
sbert_write:
  cluster: [monitor]
  indices:
    - names: ["$SECURE_INDICES"]
      privileges: [manage, write, read, view_index_metadata]
EOF
  local stamp; stamp=$(printf '%s' "$SECURE_PASSWORD" | sha256sum | cut -c1-64)
  if [ "$(cat "$sec/stamp" 2>/dev/null)" != "$stamp" ] || [ ! -s "$sec/users" ]; then
    : > "$dir/config/users"; : > "$dir/config/users_roles"
    own "$dir/config"
    local u
    for u in "$ADMIN_USER:superuser" "$READER_USER:sbert_read" "$WRITER_USER:sbert_write"; do
      as_user ES_JAVA_HOME="$jh" ES_PATH_CONF="$dir/config" \
        "$DIST/bin/elasticsearch-users" useradd "${u%%:*}" -p "$SECURE_PASSWORD" -r "${u#*:}" >&2 \
        || die "elasticsearch-users useradd ${u%%:*} failed"
    done
    cp "$dir/config/users" "$dir/config/users_roles" "$sec/"; echo "$stamp" > "$sec/stamp"
  else
    cp "$sec/users" "$sec/users_roles" "$dir/config/"
  fi
}

# The integ-test zip has only the modules apm, transport-netty4, x-pack-core and x-pack-security, and
# the .security index (API keys, native users, tokens) needs analysis components from the left-out
# analysis-common module: tokenizer uax_url_email, filters pattern_capture and unique. secure-start
# therefore runs a hard-linked copy of the distribution ($SBERT_ES_HOME/elasticsearch-V-secure) with
# a small plugin, compiled here with the JDK's javac, that registers just those three.
# SBERT_ES_SECURE_SHIM=0 skips it (then file-realm basic auth works, API keys do not).
shim_dist() {  # java_home -> prints the distribution dir secure nodes run from
  local jh=$1 sdist="$DIST-secure" pdir
  if [ "${SBERT_ES_SECURE_SHIM:-1}" = 0 ]; then echo "$DIST"; return; fi
  pdir="$sdist/plugins/sbert-analysis-shim"
  if [ ! -f "$pdir/plugin-descriptor.properties" ]; then
    [ -x "$jh/bin/javac" ] && [ -x "$jh/bin/jar" ] ||
      die "secure-start needs javac and jar in $jh (a JDK, not a JRE) to build the analysis shim; or SBERT_ES_SECURE_SHIM=0 (no API keys)"
    rm -rf "$sdist"; cp -al "$DIST" "$sdist"
    local b; b=$(mktemp -d); mkdir -p "$b/src/org/sbertplugins/shim" "$b/out" "$pdir"
    cat > "$b/src/org/sbertplugins/shim/AnalysisShimPlugin.java" <<'JAVA'
package org.sbertplugins.shim;

import java.util.Map;
import java.util.regex.Pattern;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.miscellaneous.RemoveDuplicatesTokenFilter;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/** The three analysis components the .security index needs, which the integ-test zip leaves out. */
public class AnalysisShimPlugin extends Plugin implements AnalysisPlugin {
    static TokenFilterFactory filter(String name, java.util.function.UnaryOperator<TokenStream> f) {
        return new TokenFilterFactory() {
            public String name() { return name; }
            public TokenStream create(TokenStream in) { return f.apply(in); }
        };
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "pattern_capture", (idx, env, name, s) -> {
                Pattern[] p = s.getAsList("patterns").stream().map(Pattern::compile).toArray(Pattern[]::new);
                boolean keep = s.getAsBoolean("preserve_original", true);
                return filter(name, in -> new PatternCaptureGroupTokenFilter(in, keep, p));
            },
            "unique", (idx, env, name, s) -> filter(name, RemoveDuplicatesTokenFilter::new));
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("uax_url_email", (idx, env, name, s) -> TokenizerFactory.newFactory(name, UAX29URLEmailTokenizer::new));
    }
}
JAVA
    "$jh/bin/javac" -nowarn -proc:none -cp "$DIST/lib/*" -d "$b/out" "$b/src/org/sbertplugins/shim/AnalysisShimPlugin.java" >&2 \
      || die "compiling the analysis shim failed"
    "$jh/bin/jar" cf "$pdir/sbert-analysis-shim.jar" -C "$b/out" . || die "jar failed"
    printf '%s\n' "description=analysis components the .security index needs (test shim, sbert-plugins es_server.sh)" \
      "version=1.0" "name=sbert-analysis-shim" "classname=org.sbertplugins.shim.AnalysisShimPlugin" \
      "java.version=$(java_major "$jh")" "elasticsearch.version=$VERSION" > "$pdir/plugin-descriptor.properties"
    rm -rf "$b"
    own "$sdist"
  fi
  echo "$sdist"
}

secure_info() {
  echo "SBERT_ES_SECURE_URL=https://127.0.0.1:$SECURE_PORT"
  echo "SBERT_ES_CA_CERTS=$RUN/$SECURE_NAME/tls/ca.crt"
  echo "SBERT_ES_ADMIN_USER=$ADMIN_USER"
  echo "SBERT_ES_READER_USER=$READER_USER"
  echo "SBERT_ES_WRITER_USER=$WRITER_USER"
  echo "SBERT_ES_SECURE_PASSWORD=$SECURE_PASSWORD"
}

SECURE_YML="xpack.security.enabled: true
xpack.security.http.ssl.enabled: true
xpack.security.http.ssl.key: certs/node.key
xpack.security.http.ssl.certificate: certs/node.crt
xpack.security.http.ssl.certificate_authorities: [certs/ca.crt]
xpack.security.transport.ssl.enabled: true
xpack.security.transport.ssl.verification_mode: certificate
xpack.security.transport.ssl.key: certs/node.key
xpack.security.transport.ssl.certificate: certs/node.crt
xpack.security.transport.ssl.certificate_authorities: [certs/ca.crt]"

# ---- verbs ---------------------------------------------------------------------------------------
case "${1:-}" in
  fetch) fetch ;;
  start)
    fetch
    running=$(port_owner "$PORT" http)
    if [ "$running" = "$VERSION" ]; then log "already running on $PORT"; exit 0; fi
    [ -z "$running" ] || die "Elasticsearch $running already answers on $PORT, not $VERSION (stop it with: es_server.sh --version $running stop)"
    # data is kept across stop/start, so a restarted node still has what was indexed
    start_node "$NAME" "$PORT" $((PORT + 100)) "[master, data, ingest]" "" ""
    wait_http "http://127.0.0.1:$PORT" yellow ;;
  stop) stop_node "$NAME" ;;
  wipe) stop_node "$NAME"; rm -rf "${RUN:?}/$NAME" ;;
  port) echo "$PORT" ;;
  pause) signal_node STOP "${2:-$NAME}" ;;
  resume) signal_node CONT "${2:-$NAME}" ;;
  cluster-start)
    fetch
    running=$(port_owner 9260 http)
    [ -z "$running" ] || die "Elasticsearch $running already answers on 9260 (es_server.sh --version $running cluster-stop)"
    stop_node node-a; stop_node node-b
    rm -rf "$RUN/node-a" "$RUN/node-b"
    start_node node-a 9260 9360 "[master, data, ingest]" '"127.0.0.1:9360", "127.0.0.1:9361"' '"node-a"'
    start_node node-b 9261 9361 "[data, ingest]" '"127.0.0.1:9360", "127.0.0.1:9361"' '"node-a"'
    wait_http "http://127.0.0.1:9260" yellow
    for _ in $(seq 1 60); do
      n=$("${CURL[@]}" -f "http://127.0.0.1:9260/_cat/nodes?h=name" 2>/dev/null | wc -l)
      [ "$n" -ge 2 ] && { log "2-node cluster up"; exit 0; }
      sleep 1
    done
    die "node-b did not join" ;;
  cluster-stop-node) stop_node "node-${2:?a or b}" ;;
  cluster-stop) stop_node node-b; stop_node node-a ;;
  secure-start)
    fetch
    ca="$RUN/$SECURE_NAME/tls/ca.crt"
    if [ -f "$ca" ] && [ "$(node_version "https://127.0.0.1:$SECURE_PORT" --cacert "$ca" \
         -u "$ADMIN_USER:$SECURE_PASSWORD")" = "$VERSION" ]; then
      log "already running on $SECURE_PORT"; secure_info; exit 0
    fi
    running=$(port_owner "$SECURE_PORT" https)
    [ -z "$running" ] || die "Elasticsearch $running already answers on $SECURE_PORT (es_server.sh --version $running secure-stop)"
    node_hook() { secure_hook "$@"; }
    DIST=$(shim_dist "$(java_home)") || exit 1
    start_node "$SECURE_NAME" "$SECURE_PORT" $((SECURE_PORT + 100)) "[master, data, ingest]" "" "" "$SECURE_YML"
    wait_http "https://127.0.0.1:$SECURE_PORT" yellow --cacert "$ca" -u "$ADMIN_USER:$SECURE_PASSWORD"
    secure_info ;;
  secure-stop) stop_node "$SECURE_NAME" ;;
  secure-wipe) stop_node "$SECURE_NAME"; rm -rf "${RUN:?}/$SECURE_NAME" ;;
  secure-info) secure_info ;;
  java) jh=$(java_home); echo "$jh (Java $(java_major "$jh")) for Elasticsearch $VERSION" ;;
  status)
    for pf in "$HOME_DIR"/run*/*/; do
      [ -d "$pf" ] || continue
      pid=$(cat "$pf/pid" 2>/dev/null || true); state=stopped
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        state="running pid $pid"; [ "$(ps -o stat= -p "$pid" | cut -c1)" = T ] && state="paused pid $pid"
      fi
      port=$(sed -n 's/^http.port: //p' "$pf/config/elasticsearch.yml" 2>/dev/null || true)
      echo "$(basename "$(dirname "$pf")" | sed 's/^run-//')  $(basename "$pf")  :${port:-?}  $state"
    done ;;
  stop-all)
    for pf in "$HOME_DIR"/run*/*/pid; do [ -f "$pf" ] && { log "stopping ${pf%/pid}"; stop_pidfile "$pf"; }; done; true ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
esac
