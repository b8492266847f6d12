#!/usr/bin/env bash
# End-to-end suite: the login example behind nginx terminating TLS (a test
# rendering of deploy/nginx/sealed-session.conf), driven by a real headless
# Chromium through chromedriver, plus curl and wrk.
#
#   scripts/e2e.sh                  # login_axum, and login_actix when examples/login_actix.rs exists
#   scripts/e2e.sh login_axum ...   # only the named examples
#
# Installs what is missing (nginx chromium chromium-driver wrk openssl curl,
# from Debian's packages), builds the example and e2e/ (into target/e2e),
# starts everything on loopback high ports, prints a PASS line per
# assertion and exits non-zero on the first failure, after printing the
# nginx and app logs. Every process it starts is stopped on exit.
#
# Environment:
#   E2E_PORT_BASE    default 18000: apps on +81 +82 (round robin), +83
#                    (untrusted proxy range), +85 +86 (one key file each);
#                    nginx on +443/+80, and +444/+79 without X-Forwarded-Proto;
#                    chromedriver on the first free port from +1515
#   E2E_WRK_SECONDS  default 12
#   E2E_KEEP=1       keep the temporary directory (always kept on failure)
#   E2E_ALL_FEATURES=1  build the examples with --all-features (as the
#                    tests do) instead of only the features they require
#   CARGO_TARGET_DIR where the examples are built (default target/); the
#                    driver in e2e/ always builds into target/e2e

set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${E2E_PORT_BASE:-18000}
APP_A_PORT=$((BASE + 81))
APP_B_PORT=$((BASE + 82))
UNTRUSTED_PORT=$((BASE + 83))
SPLIT_A_PORT=$((BASE + 85))
SPLIT_B_PORT=$((BASE + 86))
TLS_PORT=$((BASE + 443))
PLAIN_PORT=$((BASE + 80))
TLS_NO_XFP_PORT=$((BASE + 444))
PLAIN_NO_XFP_PORT=$((BASE + 79))
WRK_SECONDS=${E2E_WRK_SECONDS:-12}
# Bounds for each kind of wait, in seconds.
START_TIMEOUT=30
RELOAD_TIMEOUT=10
DRIVER_TIMEOUT=300
BUILD_TIMEOUT=1800

PIDS=()
NAMES=()
PASSES=0
CURRENT=""
FLOW=""
START_TIME=$SECONDS
WORK=""

say() { printf '%s\n' "$*"; }
pass() {
    PASSES=$((PASSES + 1))
    say "PASS [$FLOW] $*"
}
fail() {
    say "FAIL [$CURRENT] $*" >&2
    exit 1
}

# ---------------------------------------------------------------------------
# Processes

# Every descendant of a PID, deepest first, then the PID itself.
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$child"
    done
    printf '%s\n' "$1"
}

stop_all() {
    local i pid tree=()
    for i in "${!PIDS[@]}"; do
        pid=${PIDS[$i]}
        if kill -0 "$pid" 2>/dev/null; then
            mapfile -t -O "${#tree[@]}" tree < <(descendants "$pid")
        fi
    done
    if ((${#tree[@]})); then
        kill -TERM "${tree[@]}" 2>/dev/null || true
        for _ in $(seq 50); do
            local alive=0
            for pid in "${tree[@]}"; do
                kill -0 "$pid" 2>/dev/null && alive=1
            done
            ((alive)) || break
            sleep 0.1
        done
        kill -KILL "${tree[@]}" 2>/dev/null || true
    fi
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    NAMES=()
}

print_logs() {
    local f
    [[ -n $WORK && -d $WORK ]] || return 0
    for f in "$WORK"/nginx/logs/*error.log "$WORK"/logs/*.log; do
        [[ -s $f ]] || continue
        say "----- $f (last 60 lines)" >&2
        tail -n 60 "$f" >&2
    done
}

on_exit() {
    local status=$?
    trap - EXIT
    if ((status != 0)); then
        say "" >&2
        say "e2e FAILED${CURRENT:+ in $CURRENT} (exit $status); logs follow" >&2
        print_logs
    fi
    stop_all
    if [[ -n $WORK && -d $WORK ]]; then
        if ((status == 0)) && [[ -z ${E2E_KEEP:-} ]]; then
            rm -rf "$WORK"
        else
            say "kept $WORK" >&2
        fi
    fi
    if ((status != 0)); then
        say "e2e: $PASSES passed, 1 failed" >&2
    fi
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# start NAME LOG COMMAND...: runs in the background, remembered for stop_all.
start() {
    local name=$1 log=$2
    shift 2
    "$@" >"$log" 2>&1 &
    PIDS+=("$!")
    NAMES+=("$name")
}

# forget PID: a process that was meant to end (no longer checked or stopped).
forget() {
    local i
    for i in "${!PIDS[@]}"; do
        if [[ ${PIDS[$i]} == "$1" ]]; then
            unset 'PIDS[i]' 'NAMES[i]'
        fi
    done
}

# wait_until DESCRIPTION TIMEOUT COMMAND...: polls COMMAND every 0.2 s.
wait_until() {
    local what=$1 timeout=$2 deadline
    shift 2
    deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            fail "timed out after ${timeout}s waiting for $what"
        fi
        check_alive
        sleep 0.2
    done
}

check_alive() {
    local i
    for i in "${!PIDS[@]}"; do
        # The builds and wrk end on their own, and are checked when they do.
        [[ ${NAMES[$i]} == wrk || ${NAMES[$i]} == build ]] && continue
        kill -0 "${PIDS[$i]}" 2>/dev/null || fail "${NAMES[$i]} (pid ${PIDS[$i]}) exited early"
    done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port
    for port in $(seq "$1" $(($1 + 200))); do
        port_open "$port" || {
            echo "$port"
            return 0
        }
    done
    return 1
}

# ---------------------------------------------------------------------------
# Tools

install_missing() {
    local -A package=([nginx]=nginx [chromium]=chromium [chromedriver]=chromium-driver
        [wrk]=wrk [openssl]=openssl [curl]=curl)
    local bin missing=()
    for bin in nginx chromium chromedriver wrk openssl curl; do
        command -v "$bin" >/dev/null || [[ -x /usr/sbin/$bin ]] || missing+=("${package[$bin]}")
    done
    ((${#missing[@]})) || return 0
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || fail "missing ${missing[*]} and not root: install them first"
        sudo=(sudo)
    fi
    say "installing ${missing[*]}"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}

# Features an example needs, from its [[example]] entry in Cargo.toml.
features_for() {
    local found
    found=$(awk -v ex="$1" '
        /^\[\[example\]\]/ { inside = 1; name = ""; next }
        /^\[/ { inside = 0 }
        inside && /^name *=/ { line = $0; gsub(/^name *= *"|".*$/, "", line); name = line }
        inside && name == ex && /^required-features/ {
            line = $0; sub(/^[^[]*\[/, "", line); sub(/\].*$/, "", line); gsub(/[" ]/, "", line)
            print line; exit
        }' "$ROOT/Cargo.toml")
    if [[ -n $found ]]; then
        echo "$found"
    else
        case $1 in
        login_axum) echo axum ;;
        login_actix) echo actix-web ;;
        *) echo "" ;;
        esac
    fi
}

http_code() { curl -ksS -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }

# write_keys FILE KEYRING: replaced in one rename, so no half-written read.
write_keys() {
    printf '%s\n' "$2" >"$1.tmp"
    chmod 600 "$1.tmp"
    mv "$1.tmp" "$1"
}

reload_count() { grep -c 'keys reloaded' "$1" || true; }
reloaded_since() { (($(reload_count "$1") > $2)); }

# rotate FILE KEYRING SHOWN PRIMARY LOG...: writes the key file, then waits
# until every log reports one more reload with that primary.
rotate() {
    local file=$1 keyring=$2 shown=$3 primary=$4 log
    shift 4
    local -A before=()
    for log in "$@"; do before[$log]=$(reload_count "$log"); done
    sleep 0.05
    write_keys "$file" "$keyring"
    for log in "$@"; do
        wait_until "\"keys reloaded\" after writing $shown, in $log" "$RELOAD_TIMEOUT" \
            reloaded_since "$log" "${before[$log]}"
        grep 'keys reloaded' "$log" | tail -n 1 | grep -q "primary=$primary " ||
            fail "$log reloaded $shown with another primary: $(grep 'keys reloaded' "$log" | tail -n 1)"
        ! grep -q 'keys not reloaded' "$log" || fail "$log: $(grep 'keys not reloaded' "$log" | tail -n 1)"
    done
}

# The key id that sealed a cookie value (format version byte, then u32 BE).
key_id() { "$DRIVER" key-id "$1"; }

# ---------------------------------------------------------------------------
# nginx

render_site() {
    local out=$1
    # Comment lines are dropped: only directives are rendered and checked.
    sed -e '/^[[:space:]]*#/d' \
        -e "s#listen 443 ssl http2;#listen 127.0.0.1:$TLS_PORT ssl http2;#" \
        -e '/listen \[::\]:/d' \
        -e "s#listen 80;#listen 127.0.0.1:$PLAIN_PORT;#" \
        -e 's#server_name example.com;#server_name 127.0.0.1 localhost;#' \
        -e "s#/etc/ssl/certs/example.com.fullchain.pem#$WORK/tls/cert.pem#" \
        -e "s#/etc/ssl/private/example.com.key#$WORK/tls/key.pem#" \
        -e "s#server 127.0.0.1:3001 #server 127.0.0.1:$APP_A_PORT #" \
        -e "s#server 127.0.0.1:3002 #server 127.0.0.1:$APP_B_PORT #" \
        -e "s#return 301 https://\$host\$request_uri;#return 301 https://\$host:$TLS_PORT\$request_uri;#" \
        -e "s#/var/log/nginx/sealed-session\\.#$WORK/nginx/logs/site.#g" \
        "$ROOT/deploy/nginx/sealed-session.conf" >"$out"
    # The test must run the deploy config, not a drifted copy: every
    # substitution above has to have hit.
    local stale
    for stale in example.com /etc/ssl /var/log 127.0.0.1:3001 127.0.0.1:3002 'listen 443' 'listen 80;' 'https://$host$request_uri'; do
        ! grep -qF -- "$stale" "$out" ||
            fail "deploy/nginx/sealed-session.conf changed shape: '$stale' survived rendering; update render_site in scripts/e2e.sh"
    done
    local want
    for want in "listen 127.0.0.1:$TLS_PORT ssl" "listen 127.0.0.1:$PLAIN_PORT;" "server 127.0.0.1:$APP_A_PORT " \
        "server 127.0.0.1:$APP_B_PORT " 'proxy_set_header X-Forwarded-Proto $scheme;' "$WORK/tls/cert.pem"; do
        grep -qF -- "$want" "$out" || fail "rendered site config lacks '$want'"
    done
}

# The same site with the one classic mistake: no X-Forwarded-Proto (and no
# Forwarded), in front of instance A only so its log is the one to read.
render_no_xfp() {
    sed -e 's/sealed_session_app/sealed_session_no_xfp/g' \
        -e "/server 127.0.0.1:$APP_B_PORT /d" \
        -e '/^[[:space:]]*proxy_set_header X-Forwarded-Proto/d' \
        -e '/^[[:space:]]*proxy_set_header Forwarded/d' \
        -e "s#listen 127.0.0.1:$TLS_PORT #listen 127.0.0.1:$TLS_NO_XFP_PORT #" \
        -e "s#listen 127.0.0.1:$PLAIN_PORT;#listen 127.0.0.1:$PLAIN_NO_XFP_PORT;#" \
        -e "s#\$host:$TLS_PORT#\$host:$TLS_NO_XFP_PORT#" \
        -e "s#$WORK/nginx/logs/site\\.#$WORK/nginx/logs/no-xfp.#g" \
        "$1" >"$2"
    ! grep -q 'X-Forwarded-Proto\|proxy_set_header Forwarded' "$2" || fail "no-xfp config still forwards the scheme"
    grep -qF "listen 127.0.0.1:$TLS_NO_XFP_PORT ssl" "$2" || fail "no-xfp config has no TLS listener"
}

write_nginx_conf() {
    local n=$WORK/nginx
    mkdir -p "$n/conf" "$n/logs" "$n/tmp"
    render_site "$n/conf/sealed-session.conf"
    render_no_xfp "$n/conf/sealed-session.conf" "$n/conf/no-xfp.conf"
    cat >"$n/conf/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $n/nginx.pid;
error_log $n/logs/error.log notice;
events { worker_connections 1024; }
http {
    access_log $n/logs/access.log;
    client_body_temp_path $n/tmp/client_body;
    proxy_temp_path $n/tmp/proxy;
    fastcgi_temp_path $n/tmp/fastcgi;
    uwsgi_temp_path $n/tmp/uwsgi;
    scgi_temp_path $n/tmp/scgi;
    include $n/conf/sealed-session.conf;
    include $n/conf/no-xfp.conf;
}
EOF
    # Workers run as an unprivileged user when nginx starts as root: they
    # must reach the temp directories.
    chmod 711 "$WORK"
    chmod -R a+rX "$n"
}

# ---------------------------------------------------------------------------
# The suite, once per example

start_app() { # LABEL PORT KEY_FILE TRUSTED_PROXIES
    start "$1" "$WORK/logs/$1.log" env -u SESSION_KEYS INSTANCE="$1" BIND="127.0.0.1:$2" \
        SESSION_KEYS_FILE="$3" TRUSTED_PROXIES="$4" INSECURE_POLICY=refuse "$APP_BIN"
}

run_driver() {
    local out
    out=$(mktemp "$WORK/driver.XXXX")
    # The driver bounds each of its own waits; this bounds the whole run.
    timeout "$DRIVER_TIMEOUT" "$DRIVER" "$@" | tee "$out" ||
        fail "e2e-driver $* failed (exit ${PIPESTATUS[0]}; 124 means it ran past ${DRIVER_TIMEOUT}s)"
    PASSES=$((PASSES + $(grep -c '^PASS' "$out" || true)))
}

app_bin() { echo "${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples/$1"; }

# The driver, then each example with the features its [[example]] entry
# requires (`cargo build --example NAME --features F`).
build_all() {
    local example features
    say "-- e2e driver (target/e2e)"
    (cd "$ROOT/e2e" && CARGO_TARGET_DIR="$ROOT/target/e2e" cargo build --locked)
    for example in "$@"; do
        if [[ ${E2E_ALL_FEATURES:-0} == 1 ]]; then
            # Reuses a build made for the tests (same feature set).
            say "-- $example (all features)"
            (cd "$ROOT" && cargo build --example "$example" --all-features)
            continue
        fi
        features=$(features_for "$example")
        say "-- $example (features: ${features:-none})"
        (cd "$ROOT" && cargo build --example "$example" ${features:+--features "$features"})
    done
}

suite() {
    local example=$1
    EXAMPLE=$example
    say "== $example"
    APP_BIN=$(app_bin "$example")
    [[ -x $APP_BIN ]] || fail "no binary at $APP_BIN"

    WORK=$(mktemp -d "${TMPDIR:-/tmp}/sealed-session-e2e.XXXXXX")
    mkdir -p "$WORK/logs" "$WORK/tls" "$WORK/keys"
    CURRENT="$example: setup"

    local port
    for port in $APP_A_PORT $APP_B_PORT $UNTRUSTED_PORT $SPLIT_A_PORT $SPLIT_B_PORT $TLS_PORT $PLAIN_PORT \
        $TLS_NO_XFP_PORT $PLAIN_NO_XFP_PORT; do
        ! port_open "$port" || fail "port $port is already in use (set E2E_PORT_BASE to move every port)"
    done

    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>"$WORK/logs/openssl.log" ||
        fail "openssl could not make the test certificate: $(cat "$WORK/logs/openssl.log")"

    K1=$(openssl rand -base64 32)
    K2=$(openssl rand -base64 32)
    K3=$(openssl rand -base64 32)
    local keys=$WORK/keys/shared split_a=$WORK/keys/split-a split_b=$WORK/keys/split-b
    write_keys "$keys" "1:$K1"
    write_keys "$WORK/keys/untrusted" "1:$K1"
    write_keys "$split_a" "2:$K2"
    write_keys "$split_b" "2:$K2"

    start_app app-a "$APP_A_PORT" "$keys" 127.0.0.1/32
    start_app app-b "$APP_B_PORT" "$keys" 127.0.0.1/32
    # 10.0.0.0/8 only excludes 127.0.0.1 from the trusted range; nothing is sent there.
    start_app app-untrusted "$UNTRUSTED_PORT" "$WORK/keys/untrusted" 10.0.0.0/8
    start_app split-a "$SPLIT_A_PORT" "$split_a" 127.0.0.1/32
    start_app split-b "$SPLIT_B_PORT" "$split_b" 127.0.0.1/32
    for port in $APP_A_PORT $APP_B_PORT $UNTRUSTED_PORT $SPLIT_A_PORT $SPLIT_B_PORT; do
        wait_until "app on 127.0.0.1:$port to answer /healthz" "$START_TIMEOUT" \
            curl -fsS --max-time 2 "http://127.0.0.1:$port/healthz"
    done

    local nginx_bin
    nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
    write_nginx_conf
    local nginx_args=(-p "$WORK/nginx" -c "$WORK/nginx/conf/nginx.conf" -e "$WORK/nginx/logs/error.log")
    "$nginx_bin" -t -q "${nginx_args[@]}" 2>"$WORK/logs/nginx-t.log" ||
        fail "nginx -t rejected the rendered config: $(cat "$WORK/logs/nginx-t.log")"
    start nginx "$WORK/logs/nginx.log" "$nginx_bin" "${nginx_args[@]}"
    wait_until "nginx to answer https://127.0.0.1:$TLS_PORT/healthz" "$START_TIMEOUT" \
        curl -kfsS --max-time 2 "https://127.0.0.1:$TLS_PORT/healthz"
    wait_until "nginx to answer https://127.0.0.1:$TLS_NO_XFP_PORT/healthz" "$START_TIMEOUT" \
        curl -kfsS --max-time 2 "https://127.0.0.1:$TLS_NO_XFP_PORT/healthz"

    local cd_port
    cd_port=$(free_port $((BASE + 1515))) || fail "no free port for chromedriver"
    start chromedriver "$WORK/logs/chromedriver.log" chromedriver --port="$cd_port"
    wait_until "chromedriver to be ready on port $cd_port" "$START_TIMEOUT" \
        sh -c "curl -fsS --max-time 2 http://127.0.0.1:$cd_port/status | grep -q '\"ready\": *true'"
    say "== $example: apps, nginx $("$nginx_bin" -v 2>&1 | sed 's#.*/##'), $(chromedriver --version | cut -d' ' -f1-2) up ($((SECONDS - START_TIME))s)"

    export E2E_BASE="https://127.0.0.1:$TLS_PORT" E2E_BASE_NO_XFP="https://127.0.0.1:$TLS_NO_XFP_PORT"
    export E2E_WEBDRIVER="http://127.0.0.1:$cd_port" E2E_CHROMIUM
    E2E_CHROMIUM=$(command -v chromium)
    export E2E_KEY_FILE=$keys E2E_LOG_A=$WORK/logs/app-a.log E2E_LOG_B=$WORK/logs/app-b.log
    export E2E_LABEL_A=app-a E2E_LABEL_B=app-b E2E_K1=$K1 E2E_K2=$K2 E2E_K3=$K3
    export E2E_SPLIT_URL_A="http://127.0.0.1:$SPLIT_A_PORT" E2E_SPLIT_URL_B="http://127.0.0.1:$SPLIT_B_PORT"
    export E2E_SPLIT_KEYS_A=$split_a E2E_SPLIT_KEYS_B=$split_b
    export E2E_SPLIT_LOG_A=$WORK/logs/split-a.log E2E_SPLIT_LOG_B=$WORK/logs/split-b.log
    export E2E_SPLIT_LABEL_A=split-a E2E_SPLIT_LABEL_B=split-b

    CURRENT="$example: nginx config" FLOW="nginx config"
    check_nginx_config

    CURRENT="$example: flows 1-2"
    export E2E_USER_DATA_DIR=$WORK/chromium-1
    run_driver browser 1 2

    CURRENT="$example: flow 3" FLOW="flow 3"
    flow_spoofing

    CURRENT="$example: flow 4"
    export E2E_USER_DATA_DIR=$WORK/chromium-2
    run_driver browser 4
    CURRENT="$example: flow 4 split"
    run_driver split

    CURRENT="$example: flow 5" FLOW="flow 5"
    flow_load

    CURRENT="$example: done"
    stop_all
    if [[ -z ${E2E_KEEP:-} ]]; then rm -rf "$WORK"; else say "kept $WORK"; fi
    WORK=""
}

check_nginx_config() {
    local tls=https://127.0.0.1:$TLS_PORT headers
    headers=$(curl -sS -o /dev/null -D - --max-time 5 "http://127.0.0.1:$PLAIN_PORT/dashboard?x=1")
    grep -qiE '^HTTP/[0-9.]+ 301' <<<"$headers" || fail "plain http did not answer 301: $headers"
    grep -qiF "location: https://127.0.0.1:$TLS_PORT/dashboard?x=1" <<<"$headers" ||
        fail "plain http does not redirect to https: $headers"
    ! grep -qi '^set-cookie' <<<"$headers" || fail "the http redirect sets a cookie"
    pass "http://127.0.0.1:$PLAIN_PORT/dashboard?x=1 -> 301 to https://127.0.0.1:$TLS_PORT/dashboard?x=1, no cookie"

    headers=$(curl -ksS -o /dev/null -D - --max-time 5 "$tls/")
    grep -qiF 'strict-transport-security: max-age=63072000' <<<"$headers" || fail "no HSTS header: $headers"
    grep -qiE '^HTTP/2 200' <<<"$headers" || fail "https / did not answer 200 over HTTP/2: $headers"
    pass "https / -> 200 over HTTP/2 with Strict-Transport-Security: max-age=63072000"

    local proto out
    for proto in tls1_3 tls1_2; do
        out=$(timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername localhost "-$proto" </dev/null 2>&1) ||
            fail "TLS handshake with -$proto failed: $(tail -n 5 <<<"$out")"
    done
    pass "TLS 1.3 and TLS 1.2 handshakes accepted"
    for proto in tls1_1 tls1; do
        # SECLEVEL=0 lets this client offer the old protocol, so a refusal is the server's.
        out=$(timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" "-$proto" -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>&1) &&
            fail "TLS handshake with -$proto succeeded: $(grep -E 'Protocol|Cipher' <<<"$out" | head -n 2)"
        grep -q 'no protocols available' <<<"$out" &&
            fail "this openssl cannot offer -$proto, so the server's refusal is not shown"
        grep -qiE 'alert protocol version|unsupported protocol|wrong version number|handshake failure' <<<"$out" ||
            fail "-$proto failed for another reason: $(tail -n 3 <<<"$out")"
    done
    out=$(timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' </dev/null 2>&1) &&
        fail "a CBC-SHA1 suite was accepted over TLS 1.2"
    pass "TLS 1.1 and TLS 1.0 refused by the server (client offered them at SECLEVEL=0); TLS 1.2 CBC suite ECDHE-ECDSA-AES128-SHA refused"

    # 3 cookies of 4 KB each plus a 4 KB junk session cookie: a 16 KB Cookie
    # header, past nginx's default 8k header buffers.
    local big junk code body
    big=$(head -c 3000 /dev/urandom | base64 -w0 | tr '+/' '-_' | head -c 4000)
    junk="a=$big; b=$big; c=$big; __Host-session=$big"
    code=$(http_code -H "Cookie: $junk" "$tls/")
    [[ $code == 200 ]] || fail "a 16 KB Cookie header answered $code through nginx"
    body=$(curl -ksS --max-time 5 -H "Cookie: $junk" "$tls/")
    grep -q 'Not logged in' <<<"$body" || fail "a junk session cookie was not treated as no session"
    pass "a ${#junk}-byte Cookie header passes nginx (200); the app treats the junk __Host-session as no session"

    # A client's own scheme claims do not survive the proxy.
    headers=$(curl -ksS -o /dev/null -D - --max-time 5 -X POST -H 'X-Forwarded-Proto: http' \
        -H 'Forwarded: proto=http' -d username=alice -d password=wonderland "$tls/login")
    grep -qiE '^HTTP/2 303' <<<"$headers" || fail "login with client-sent X-Forwarded-Proto/Forwarded: $headers"
    grep -qi '^set-cookie: __Host-session=' <<<"$headers" || fail "no cookie: the client's headers reached the app"
    pass "login with client-sent 'X-Forwarded-Proto: http' and 'Forwarded: proto=http' -> 303 + cookie: nginx overwrote the first and dropped the second"
}

flow_spoofing() {
    local url=http://127.0.0.1:$UNTRUSTED_PORT headers log=$WORK/logs/app-untrusted.log
    headers=$(curl -sS -o /dev/null -D - --max-time 5 -X POST -H 'X-Forwarded-Proto: https' \
        -d username=alice -d password=wonderland "$url/login")
    grep -qE '^HTTP/1.1 500' <<<"$headers" || fail "spoofed login answered: $headers"
    ! grep -qi '^set-cookie' <<<"$headers" || fail "spoofed X-Forwarded-Proto got a cookie: $headers"
    pass "curl POST $url/login with 'X-Forwarded-Proto: https' over plain HTTP from 127.0.0.1 (not in TRUSTED_PROXIES=10.0.0.0/8) -> 500, no Set-Cookie"

    headers=$(curl -sS -o /dev/null -D - --max-time 5 -X POST -H 'Forwarded: for=192.0.2.1;proto=https' \
        -d username=alice -d password=wonderland "$url/login")
    grep -qE '^HTTP/1.1 500' <<<"$headers" && ! grep -qi '^set-cookie' <<<"$headers" ||
        fail "spoofed Forwarded: $headers"
    pass "same with 'Forwarded: for=192.0.2.1;proto=https' -> 500, no Set-Cookie"

    wait_until "the untrusted-peer diagnostic in $log" 5 \
        grep -q 'forwarded headers were ignored because the peer address is unknown or not a trusted proxy' "$log"
    grep -q 'WARN.*NoTrustedProxy' "$log" || fail "no WARN with source NoTrustedProxy in $log"
    pass "app-untrusted logged the NoTrustedProxy diagnostic (headers ignored: peer not a trusted proxy)"

    # What it does not prove: a peer inside TRUSTED_PROXIES is believed. That
    # is why the apps listen on loopback only, where nginx is the only client
    # that should be.
    headers=$(curl -sS -o /dev/null -D - --max-time 5 -X POST -H 'X-Forwarded-Proto: https' \
        -d username=alice -d password=wonderland "http://127.0.0.1:$APP_A_PORT/login")
    grep -qE '^HTTP/1.1 303' <<<"$headers" && grep -qi '^set-cookie: __Host-session=' <<<"$headers" ||
        fail "the trusted-peer contrast did not log in: $headers"
    pass "contrast: the same request to app-a (TRUSTED_PROXIES=127.0.0.1/32) -> 303 + cookie; a trusted peer is believed, so only nginx may reach the app port"
}

flow_load() {
    local tls=https://127.0.0.1:$TLS_PORT headers cookie logs=("$E2E_LOG_A" "$E2E_LOG_B")
    headers=$(curl -ksS -o /dev/null -D - --max-time 5 -X POST -d username=alice -d password=wonderland "$tls/login")
    cookie=$(sed -n 's/^set-cookie: __Host-session=\([^;]*\);.*/\1/Ip' <<<"$headers" | tr -d '\r' | head -n 1)
    [[ -n $cookie ]] || fail "no cookie from the login before the load run: $headers"
    [[ $(key_id "$cookie") == 2 ]] || fail "the load run's cookie is not sealed with key 2"
    [[ $(http_code -H "Cookie: __Host-session=$cookie" "$tls/dashboard") == 200 ]] || fail "the load cookie does not open /dashboard"
    say "wrk: ${WRK_SECONDS}s, 2 threads, 8 connections, GET /dashboard through nginx TLS; rotation 2 -> 3 mid-run"

    local out=$WORK/logs/wrk.out
    start wrk "$out" env E2E_COOKIE="$cookie" timeout $((WRK_SECONDS + 30)) wrk -t2 -c8 -d"${WRK_SECONDS}s" --timeout 5s --latency \
        -s "$ROOT/e2e/wrk/dashboard.lua" "$tls/dashboard"
    local wrk_pid=${PIDS[-1]} t0=$SECONDS
    sleep $((WRK_SECONDS / 3))
    rotate "$E2E_KEY_FILE" "2:$K2,3:$K3" '"2:K2,3:K3"' 2 "${logs[@]}"
    pass "mid-run at $((SECONDS - t0))s: key 3 added accept-only (\"2:K2,3:K3\"), both instances reloaded"
    sleep $((WRK_SECONDS / 4))
    rotate "$E2E_KEY_FILE" "3:$K3,2:$K2" '"3:K3,2:K2"' 3 "${logs[@]}"
    pass "mid-run at $((SECONDS - t0))s: key 3 promoted (\"3:K3,2:K2\"), both instances reloaded"
    local status=0
    wait "$wrk_pid" || status=$?
    forget "$wrk_pid"
    cat "$out"
    ((status == 0)) || fail "wrk exited with $status"

    local summary
    summary=$(grep '^E2E_WRK ' "$out") || fail "wrk printed no summary"
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$summary"; }
    local n non2xx lost resealed rps p99 errors
    n=$(field responses) non2xx=$(field non2xx) lost=$(field lost) resealed=$(field resealed)
    rps=$(field rps) p99=$(field p99_ms)
    errors=$(($(field connect_errors) + $(field read_errors) + $(field write_errors) + $(field timeouts)))
    ((n > 0)) || fail "wrk got no responses"
    ((non2xx == 0)) || fail "$non2xx of $n responses were not 2xx"
    ((lost == 0)) || fail "$lost of $n responses lost the session (401 or no alice)"
    ((errors == 0)) || fail "wrk socket errors/timeouts: $errors"
    ((resealed > 0)) || fail "no response re-sealed the cookie after key 3 was promoted"
    local c id
    while read -r _ c; do
        id=$(key_id "$c")
        [[ $id == 3 ]] || fail "a wrk thread ended with a cookie under key $id, expected 3"
    done < <(grep '^E2E_WRK_COOKIE ' "$out")
    pass "wrk: $n responses, 0 non-2xx, 0 lost sessions, 0 socket errors, $resealed re-sealed cookies adopted; every thread ends on key 3"
    pass "wrk: $rps requests/s, p99 ${p99} ms"
    WRK_RESULTS+=("$EXAMPLE: $rps requests/s, p99 $p99 ms, $n responses in ${WRK_SECONDS}s, 0 non-2xx, 0 lost")
}

# ---------------------------------------------------------------------------

main() {
    local examples=("$@")
    if ((${#examples[@]} == 0)); then
        examples=(login_axum)
        [[ -f $ROOT/examples/login_actix.rs ]] && examples+=(login_actix)
    fi
    WRK_RESULTS=()

    local example
    for example in "${examples[@]}"; do
        [[ -f $ROOT/examples/$example.rs ]] || fail "no examples/$example.rs"
    done

    # Builds are CPU-bound and installs mostly wait on the network and the
    # disk: run them side by side.
    RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sealed-session-e2e-run.XXXXXX")
    local build_log=$RUN_DIR/build.log build_pid build_status=0
    CURRENT="build"
    say "== building the e2e driver and ${examples[*]} (log: $build_log)"
    start build "$build_log" build_all "${examples[@]}"
    build_pid=${PIDS[-1]}
    CURRENT="install"
    install_missing
    CURRENT="build"
    local deadline=$((SECONDS + BUILD_TIMEOUT))
    while kill -0 "$build_pid" 2>/dev/null; do
        ((SECONDS < deadline)) || fail "timed out after ${BUILD_TIMEOUT}s waiting for the builds (log: $build_log)"
        sleep 1
    done
    wait "$build_pid" || build_status=$?
    forget "$build_pid"
    if ((build_status != 0)); then
        tail -n 80 "$build_log" >&2
        fail "build failed (exit $build_status; full log: $build_log)"
    fi
    grep '^-- ' "$build_log" || true
    say "== built in $((SECONDS - START_TIME))s"
    rm -rf "$RUN_DIR"
    DRIVER=$ROOT/target/e2e/debug/e2e-driver

    local example
    for example in "${examples[@]}"; do
        [[ -f $ROOT/examples/$example.rs ]] || fail "no examples/$example.rs"
        suite "$example"
    done
    CURRENT="summary"
    local line
    for line in "${WRK_RESULTS[@]}"; do say "wrk, $line"; done
    say "e2e: ${examples[*]} in $((SECONDS - START_TIME))s"
    say "e2e: $PASSES passed, 0 failed"
}

main "$@"
