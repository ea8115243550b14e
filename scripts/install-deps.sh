#!/usr/bin/env bash
# Installs, from Debian's packages, the programs that the scale-out and browser checks run
# against, when they are missing: redis-server, haproxy, chromium. Nothing is installed that
# is already on the PATH. Usage: scripts/install-deps.sh [redis] [haproxy] [chromium]
# (no argument: all three). Needs root or sudo for apt-get; says so plainly otherwise.
set -euo pipefail

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(redis haproxy chromium)

missing=()
for name in "${want[@]}"; do
    case "$name" in
        redis) command -v redis-server >/dev/null || missing+=(redis-server) ;;
        haproxy) command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy) ;;
        chromium) command -v chromium >/dev/null || missing+=(chromium) ;;
        *) echo "install-deps: unknown program '$name' (redis, haproxy, chromium)" >&2; exit 2 ;;
    esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null; then
    sudo=(sudo)
else
    echo "install-deps: ${missing[*]} missing, and installing needs root or sudo" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
