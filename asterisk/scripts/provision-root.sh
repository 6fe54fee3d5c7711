#!/usr/bin/env bash
# Build (once) a Debian sid root holding Asterisk 22, for the local PBX.
# Debian 12 has no asterisk package; sid does. The root is cached: a second run is a no-op.
# Usage: provision-root.sh ROOT
set -euo pipefail
root=${1:?usage: provision-root.sh ROOT}
mirror=${HOTLINE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
marker="$root/.hotline-provisioned"

if [ -f "$marker" ]; then
  echo "pbx root ready: $root ($(cat "$marker"))"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "error: provisioning the Asterisk root needs root (debootstrap, chroot); run as root" >&2
  exit 3
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "installing debootstrap..."
  apt-get update -qq || { echo "error: apt-get update failed: cannot fetch Debian packages" >&2; exit 4; }
  apt-get install -y -qq debootstrap >/dev/null || { echo "error: cannot install debootstrap" >&2; exit 4; }
fi
tmp="$root.partial"
rm -rf "$tmp"
mkdir -p "$(dirname "$root")"
echo "debootstrap sid into $tmp (about a minute)..."
if ! debootstrap --variant=minbase sid "$tmp" "$mirror" >"$tmp.log" 2>&1; then
  echo "error: debootstrap failed (cannot fetch packages from $mirror?); see $tmp.log" >&2
  tail -5 "$tmp.log" >&2
  exit 4
fi
mount -t proc proc "$tmp/proc" 2>/dev/null || true
cleanup() { umount "$tmp/proc" 2>/dev/null || true; }
trap cleanup EXIT
echo "installing asterisk in the root..."
if ! chroot "$tmp" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    asterisk asterisk-modules asterisk-core-sounds-en asterisk-moh-opsound-wav sox >>"$tmp.log" 2>&1; then
  echo "error: apt-get install asterisk failed in the sid root; see $tmp.log" >&2
  tail -5 "$tmp.log" >&2
  exit 4
fi
chroot "$tmp" apt-get clean >/dev/null 2>&1 || true
version=$(chroot "$tmp" asterisk -V 2>/dev/null || echo unknown)
cleanup
trap - EXIT
echo "$version" >"$tmp/.hotline-provisioned"
rm -rf "$root"
mv "$tmp" "$root"
rm -f "$tmp.log"
echo "pbx root ready: $root ($version)"
