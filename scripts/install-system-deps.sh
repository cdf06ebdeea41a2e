#!/usr/bin/env bash
# Installs the Debian packages the project needs (SpatiaLite, PostgreSQL + PostGIS), unattended; a no-op when
# they are already there.
set -euo pipefail

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if ! command -v apt-get >/dev/null; then
  echo "install SpatiaLite (mod_spatialite), PostgreSQL and PostGIS with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
export DEBIAN_FRONTEND=noninteractive

need=()
installed libsqlite3-mod-spatialite || need+=(libsqlite3-mod-spatialite)
installed postgresql || need+=(postgresql)
# The PostGIS extension package is named after the server's major version (postgresql-15-postgis-3 on Debian 12).
pg_major=$(apt-cache depends postgresql 2>/dev/null | sed -n 's/.*Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n1)
if [ -z "$pg_major" ]; then
  $sudo apt-get update -qq
  pg_major=$(apt-cache depends postgresql | sed -n 's/.*Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n1)
fi
installed "postgresql-${pg_major}-postgis-3" || need+=("postgresql-${pg_major}-postgis-3")

if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${need[*]}"
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
