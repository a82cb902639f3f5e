#!/usr/bin/env bash
# The whole test suite, in three runs that share the same tests where they can:
#   1. bun test: storage drivers, the HTTP suite and real clients against the Bun server;
#   2. the HTTP suite and real clients again, against the Worker in workerd (wrangler dev);
#   3. vitest inside workerd: the storage-driver suite against the R2 binding.
# With JUNIT_DIR set, each run also writes a JUnit report there. Extra arguments go to bun test.
set -uo pipefail
cd "$(dirname "$0")/.."

TIMEOUT_MS=120000
status=0

junit_bun() { [ -n "${JUNIT_DIR:-}" ] && echo "--reporter=junit --reporter-outfile=$JUNIT_DIR/$1.xml"; }
junit_vitest() {
  [ -n "${JUNIT_DIR:-}" ] && echo "--reporter=default --reporter=junit --outputFile.junit=$JUNIT_DIR/$1.xml"
}
[ -n "${JUNIT_DIR:-}" ] && mkdir -p "$JUNIT_DIR"

echo "==> bun test (Bun server)"
# shellcheck disable=SC2046
node_modules/.bin/bun test --timeout "$TIMEOUT_MS" $(junit_bun bun) "$@" || status=1

echo "==> bun test test/http test/e2e (Worker in workerd)"
# shellcheck disable=SC2046
REGISTRY_TARGET=worker node_modules/.bin/bun test --timeout "$TIMEOUT_MS" $(junit_bun worker) \
  test/http test/e2e || status=1

echo "==> vitest (storage suite inside workerd)"
# shellcheck disable=SC2046
(cd test/worker && ../../node_modules/.bin/vitest run --config vitest.config.ts $(junit_vitest vitest-workerd)) ||
  status=1

exit "$status"
