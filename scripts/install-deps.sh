#!/usr/bin/env bash
# Installs the Debian packages ctcir builds against (run as root or with sudo available).
set -euo pipefail
PKGS="build-essential cmake pkg-config libopenblas-dev libcjson-dev libpng-dev libjpeg62-turbo-dev
      libstb-dev zlib1g-dev libutf8proc-dev libcurl4-openssl-dev libopenmpi-dev
      openmpi-bin"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
