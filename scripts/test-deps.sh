#!/usr/bin/env bash
# Installs what the tests need beyond Python packages: headless Chromium for page tests,
# libical3 (RFC 5546 restriction checks) and the npm packages axe-core and ical.js.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libical\.so\.3' || need_apt+=(libical3)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing Debian packages: ${need_apt[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "missing Debian packages: ${need_apt[*]} (run as root or install them; tests needing them will say so)" >&2
    fi
fi

if command -v npm >/dev/null 2>&1; then
    if [ ! -d tests/js/node_modules ] || [ tests/js/package.json -nt tests/js/node_modules ]; then
        (cd tests/js && npm install --no-audit --no-fund --loglevel=error)
        touch tests/js/node_modules
    fi
fi
