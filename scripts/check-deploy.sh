#!/usr/bin/env bash
# Checks the load balancer configurations in deploy/ with the real programs:
# `haproxy -c` (installed by scripts/install-deps.sh haproxy when missing) and, where nginx
# is installed, `nginx -t` (not installed by this script: it says so and skips).
# Usage: scripts/check-deploy.sh. Exit status non-zero if a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh haproxy
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)

# With the defaults, and with addresses from the environment as scale-out.sh gives them.
timeout 30 "$haproxy" -c -f deploy/haproxy.cfg
WS_LB_BIND=127.0.0.1:18080 WS_SERVER1=127.0.0.1:19001 WS_SERVER2=127.0.0.1:19002 \
    WS_SERVER3=127.0.0.1:19003 timeout 30 "$haproxy" -c -f deploy/haproxy.cfg
echo "check-deploy: deploy/haproxy.cfg valid ($("$haproxy" -v | head -1))"

nginx=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
if [ -n "$nginx" ]; then
    timeout 30 "$nginx" -t -c "$PWD/deploy/nginx.conf"
    echo "check-deploy: deploy/nginx.conf valid ($("$nginx" -v 2>&1))"
else
    echo "check-deploy: nginx not installed, deploy/nginx.conf NOT checked (apt-get install nginx libnginx-mod-stream to check it)"
fi
