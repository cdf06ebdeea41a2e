#!/usr/bin/env bash
# Installs what `make bench` needs beyond `make deps`: the HTTP load generator wrk (Debian package `wrk`),
# unattended; a no-op when it is already there.
set -euo pipefail

if command -v wrk >/dev/null; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "install wrk (https://github.com/wg/wrk) with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
export DEBIAN_FRONTEND=noninteractive

echo "installing Debian packages: wrk"
if ! apt-cache show wrk >/dev/null 2>&1; then $sudo apt-get update -qq; fi
$sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null
