#!/usr/bin/env bash
# End-to-end suite: the login example behind nginx terminating TLS (a test
# rendering of deploy/nginx/sealed-session.conf), checked by the driver in
# e2e/ (headless Chromium through chromedriver, HTTP clients, openssl, wrk).
#
#   scripts/e2e.sh                  # login_axum, and login_actix when examples/login_actix.rs exists
#   scripts/e2e.sh login_axum ...   # only the named examples
#
# This script only sets up: it installs what is missing (nginx chromium
# chromium-driver wrk openssl curl, from Debian's packages), builds the
# examples, the driver and the sealed-session command (cli/, which the
# rotation flows run), makes a certificate and key files, renders the
# nginx config, starts the apps, nginx and chromedriver on loopback high
# ports, runs the driver once per example and stops everything on exit.
# Every assertion is the driver's (e2e/src/flows/): it prints a PASS line
# per assertion and stops at the first failure, after which this script
# prints the nginx, app and wrk logs.
#
# Environment:
#   E2E_PORT_BASE    default 18000: apps on +81 +82 (round robin), +83
#                    (untrusted proxy range), +85 +86 (one key file each),
#                    +87 (the migration flow's apps, started by the driver);
#                    nginx on +443/+80, +444/+79 without X-Forwarded-Proto,
#                    and +446/+78 in front of +87; +445 serves the
#                    cross-origin attacker pages;
#                    chromedriver on the first free port from +1515
#   E2E_WRK_SECONDS  default 12
#   E2E_FLOWS        the driver's flows to run, space-separated (default: all;
#                    `target/e2e/e2e-driver list` names them)
#   E2E_KEEP=1       keep the temporary directory (always kept on failure)
#   E2E_ALL_FEATURES=1  build the examples with --all-features (as the
#                    tests do) instead of only the features they require
#                    (plus `migrate`, for the migration flow)
#   CARGO_TARGET_DIR where the examples and the driver are built (default
#                    target/, the workspace's; the driver with the e2e profile)

set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${E2E_PORT_BASE:-18000}
APP_A_PORT=$((BASE + 81))
APP_B_PORT=$((BASE + 82))
UNTRUSTED_PORT=$((BASE + 83))
SPLIT_A_PORT=$((BASE + 85))
SPLIT_B_PORT=$((BASE + 86))
MIGRATE_PORT=$((BASE + 87))
TLS_PORT=$((BASE + 443))
PLAIN_PORT=$((BASE + 80))
TLS_NO_XFP_PORT=$((BASE + 444))
PLAIN_NO_XFP_PORT=$((BASE + 79))
MIGRATE_TLS_PORT=$((BASE + 446))
MIGRATE_PLAIN_PORT=$((BASE + 78))
ATTACK_PORT=$((BASE + 445))
WRK_SECONDS=${E2E_WRK_SECONDS:-12}
# Bounds for each kind of wait, in seconds.
START_TIMEOUT=30
DRIVER_TIMEOUT=600
BUILD_TIMEOUT=1800

PIDS=()
NAMES=()
PASSES=0
CURRENT=""
START_TIME=$SECONDS
WORK=""

say() { printf '%s\n' "$*"; }
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
        # The build ends on its own, and is checked when it does.
        [[ ${NAMES[$i]} == build ]] && continue
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

# write_keys FILE KEYRING: replaced in one rename, so no half-written read.
write_keys() {
    printf '%s\n' "$2" >"$1.tmp"
    chmod 600 "$1.tmp"
    mv "$1.tmp" "$1"
}

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

# The same site in front of the migration flow's port only: the driver
# starts a legacy app there, then the example that migrates its cookies.
render_migrate() {
    sed -e 's/sealed_session_app/sealed_session_migrate/g' \
        -e "/server 127.0.0.1:$APP_B_PORT /d" \
        -e "s#server 127.0.0.1:$APP_A_PORT #server 127.0.0.1:$MIGRATE_PORT #" \
        -e "s#listen 127.0.0.1:$TLS_PORT #listen 127.0.0.1:$MIGRATE_TLS_PORT #" \
        -e "s#listen 127.0.0.1:$PLAIN_PORT;#listen 127.0.0.1:$MIGRATE_PLAIN_PORT;#" \
        -e "s#\$host:$TLS_PORT#\$host:$MIGRATE_TLS_PORT#" \
        -e "s#$WORK/nginx/logs/site\\.#$WORK/nginx/logs/migrate.#g" \
        "$1" >"$2"
    grep -qF "server 127.0.0.1:$MIGRATE_PORT " "$2" || fail "migrate config has no upstream on $MIGRATE_PORT"
    ! grep -qE "server 127.0.0.1:($APP_A_PORT|$APP_B_PORT) " "$2" || fail "migrate config still reaches the main apps"
    grep -qF "listen 127.0.0.1:$MIGRATE_TLS_PORT ssl" "$2" || fail "migrate config has no TLS listener"
}

# Another origin on the same site (same host, another port: browsers send
# the site's SameSite=Lax cookies along), whose pages submit forms to the
# app as soon as they load: what the CSRF protection must refuse.
write_attacker_conf() {
    local target="https://127.0.0.1:$TLS_PORT"
    cat >"$1" <<EOF
server {
    listen 127.0.0.1:$ATTACK_PORT ssl;
    server_name 127.0.0.1 localhost;
    ssl_certificate $WORK/tls/cert.pem;
    ssl_certificate_key $WORK/tls/key.pem;
    default_type text/html;
    location = /logout.html {
        return 200 '<!doctype html><title>attack</title><form id="f" method="post" action="$target/logout"></form><script>document.getElementById("f").submit()</script>';
    }
    location = /login.html {
        return 200 '<!doctype html><title>attack</title><form id="f" method="post" action="$target/login"><input name="username" value="alice"><input name="password" value="wonderland"></form><script>document.getElementById("f").submit()</script>';
    }
}
EOF
}

write_nginx_conf() {
    local n=$WORK/nginx
    mkdir -p "$n/conf" "$n/logs" "$n/tmp"
    render_site "$n/conf/sealed-session.conf"
    render_no_xfp "$n/conf/sealed-session.conf" "$n/conf/no-xfp.conf"
    render_migrate "$n/conf/sealed-session.conf" "$n/conf/migrate.conf"
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
    include $n/conf/attacker.conf;
    include $n/conf/migrate.conf;
}
EOF
    write_attacker_conf "$n/conf/attacker.conf"
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
    local out status=0
    out=$(mktemp "$WORK/driver.XXXX")
    # The driver bounds each of its own waits; this bounds the whole run.
    timeout "$DRIVER_TIMEOUT" "$DRIVER" "$@" | tee "$out" || status=${PIPESTATUS[0]}
    PASSES=$((PASSES + $(grep -c '^PASS' "$out" || true)))
    SUMMARIES+=("$(sed -n 's/^SUMMARY //p' "$out")")
    ((status == 0)) || fail "e2e-driver $* failed (exit $status; 124 means it ran past ${DRIVER_TIMEOUT}s)"
}

target_dir() { echo "${CARGO_TARGET_DIR:-$ROOT/target}"; }
app_bin() { echo "$(target_dir)/debug/examples/$1"; }

# The driver, then each example with the features its [[example]] entry
# requires (`cargo build --example NAME --features F`).
build_all() {
    local example features
    say "-- e2e driver and the sealed-session command (profile e2e)"
    (cd "$ROOT" && cargo build --locked -p sealed-session-e2e -p sealed-session-cli --profile e2e)
    say "-- legacy apps (actix-session, axum-extra) for the migration flow"
    (cd "$ROOT" && cargo build --locked -p sealed-session-interop --bins)
    for example in "$@"; do
        if [[ ${E2E_ALL_FEATURES:-0} == 1 ]]; then
            # Reuses a build made for the tests (same feature set).
            say "-- $example (all features)"
            (cd "$ROOT" && cargo build --example "$example" --all-features)
            continue
        fi
        # migrate: the migration flow starts the example with a legacy key.
        features=$(features_for "$example")
        features=${features:+$features,}migrate
        say "-- $example (features: $features)"
        (cd "$ROOT" && cargo build --example "$example" ${features:+--features "$features"})
    done
}

suite() {
    local example=$1
    say "== $example"
    APP_BIN=$(app_bin "$example")
    [[ -x $APP_BIN ]] || fail "no binary at $APP_BIN"

    WORK=$(mktemp -d "${TMPDIR:-/tmp}/sealed-session-e2e.XXXXXX")
    mkdir -p "$WORK/logs" "$WORK/tls" "$WORK/keys"
    CURRENT="$example: setup"

    local port
    for port in $APP_A_PORT $APP_B_PORT $UNTRUSTED_PORT $SPLIT_A_PORT $SPLIT_B_PORT $TLS_PORT $PLAIN_PORT \
        $TLS_NO_XFP_PORT $PLAIN_NO_XFP_PORT $ATTACK_PORT $MIGRATE_PORT $MIGRATE_TLS_PORT $MIGRATE_PLAIN_PORT; do
        ! port_open "$port" || fail "port $port is already in use (set E2E_PORT_BASE to move every port)"
    done

    # Self-signed, and the only root the driver's HTTP client trusts. Not a
    # CA: certificate verifiers refuse a CA certificate as a server's.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -addext "basicConstraints=critical,CA:FALSE" \
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

    local trusted=127.0.0.1/32
    # 10.0.0.0/8 only excludes 127.0.0.1 from the trusted range; nothing is sent there.
    local untrusted=10.0.0.0/8
    start_app app-a "$APP_A_PORT" "$keys" "$trusted"
    start_app app-b "$APP_B_PORT" "$keys" "$trusted"
    start_app app-untrusted "$UNTRUSTED_PORT" "$WORK/keys/untrusted" "$untrusted"
    start_app split-a "$SPLIT_A_PORT" "$split_a" "$trusted"
    start_app split-b "$SPLIT_B_PORT" "$split_b" "$trusted"
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

    # What the driver needs to know (e2e/src/env.rs).
    local logs=$WORK/logs
    export E2E_EXAMPLE=$example
    export E2E_BASE="https://127.0.0.1:$TLS_PORT" E2E_BASE_NO_XFP="https://127.0.0.1:$TLS_NO_XFP_PORT"
    export E2E_ATTACK_BASE="https://127.0.0.1:$ATTACK_PORT"
    export E2E_PLAIN="http://127.0.0.1:$PLAIN_PORT" E2E_CA_CERT=$WORK/tls/cert.pem
    export E2E_WEBDRIVER="http://127.0.0.1:$cd_port" E2E_CHROMIUM E2E_PROFILE_DIR=$WORK
    E2E_CHROMIUM=$(command -v chromium)
    export E2E_KEY_FILE=$keys E2E_CLI=$CLI E2E_K2=$K2 E2E_K3=$K3
    export E2E_LABEL_A=app-a E2E_LABEL_B=app-b E2E_LOG_A=$logs/app-a.log E2E_LOG_B=$logs/app-b.log
    export E2E_APP_A_URL="http://127.0.0.1:$APP_A_PORT" E2E_TRUSTED_PROXIES=$trusted
    export E2E_UNTRUSTED_LABEL=app-untrusted E2E_UNTRUSTED_LOG=$logs/app-untrusted.log
    export E2E_UNTRUSTED_URL="http://127.0.0.1:$UNTRUSTED_PORT" E2E_UNTRUSTED_PROXIES=$untrusted
    export E2E_SPLIT_LABEL_A=split-a E2E_SPLIT_LABEL_B=split-b
    export E2E_SPLIT_URL_A="http://127.0.0.1:$SPLIT_A_PORT" E2E_SPLIT_URL_B="http://127.0.0.1:$SPLIT_B_PORT"
    export E2E_SPLIT_KEYS_A=$split_a E2E_SPLIT_KEYS_B=$split_b
    export E2E_SPLIT_LOG_A=$logs/split-a.log E2E_SPLIT_LOG_B=$logs/split-b.log
    export E2E_WRK_SCRIPT=$ROOT/e2e/wrk/dashboard.lua E2E_WRK_SECONDS=$WRK_SECONDS E2E_WRK_LOG=$logs/wrk.log
    export E2E_MIGRATE_BASE="https://127.0.0.1:$MIGRATE_TLS_PORT" E2E_MIGRATE_BIND="127.0.0.1:$MIGRATE_PORT"
    export E2E_MIGRATE_LOG_DIR=$logs E2E_APP_BIN=$APP_BIN
    export E2E_LEGACY_ACTIX_BIN=$(target_dir)/debug/legacy-actix E2E_LEGACY_AXUM_BIN=$(target_dir)/debug/legacy-axum
    E2E_LEGACY_KEY=$(openssl rand -base64 64 | tr -d '\n')
    export E2E_LEGACY_KEY

    CURRENT="$example: flows"
    # shellcheck disable=SC2086 # a list of flow names
    run_driver run ${E2E_FLOWS:-}

    CURRENT="$example: done"
    stop_all
    if [[ -z ${E2E_KEEP:-} ]]; then rm -rf "$WORK"; else say "kept $WORK"; fi
    WORK=""
}

# ---------------------------------------------------------------------------

main() {
    local examples=("$@")
    if ((${#examples[@]} == 0)); then
        examples=(login_axum)
        [[ -f $ROOT/examples/login_actix.rs ]] && examples+=(login_actix)
    fi
    SUMMARIES=()

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
    DRIVER=$(target_dir)/e2e/e2e-driver
    CLI=$(target_dir)/e2e/sealed-session
    [[ -x $CLI ]] || fail "no sealed-session command at $CLI"

    local example
    for example in "${examples[@]}"; do
        [[ -f $ROOT/examples/$example.rs ]] || fail "no examples/$example.rs"
        suite "$example"
    done
    CURRENT="summary"
    local line
    for line in "${SUMMARIES[@]}"; do [[ -z $line ]] || say "$line"; done
    say "e2e: ${examples[*]} in $((SECONDS - START_TIME))s"
    say "e2e: $PASSES passed, 0 failed"
}

main "$@"
