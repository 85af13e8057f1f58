#!/bin/sh
# Installs Radicale, the real CardDAV server the `carddav` source tests run against.
# Idempotent: does nothing when `python3 -m radicale` already works.
set -eu
if python3 -c 'import radicale' 2>/dev/null; then
    exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check 'radicale>=3.1,<4' \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'radicale>=3.1,<4'
python3 -c 'import radicale; print("radicale", radicale.VERSION)'
