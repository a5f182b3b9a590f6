# shellcheck shell=bash
# Sourced by the benchmarks that compare against nginx: sets NGINX to a binary from Debian's
# package, unpacked into bench/.tools on first use (not installed: the package would start a
# server on port 80).
TOOLS=bench/.tools
if [ ! -x "$TOOLS/usr/sbin/nginx" ]; then
  _work=$(mktemp -d)
  (cd "$_work" && apt-get download nginx >/dev/null 2>&1)
  mkdir -p "$TOOLS"
  dpkg-deb -x "$_work"/nginx_*.deb "$TOOLS"
  rm -rf "$_work"
fi
NGINX=$TOOLS/usr/sbin/nginx
# The http-block lines that keep nginx's temporary files under $1 (the package's defaults are
# under /var/lib/nginx, which an unpacked package does not create).
nginx_temp_paths() {
  local d
  for d in client_body proxy fastcgi uwsgi scgi; do echo "  ${d}_temp_path $1/$d;"; done
}

# shellcheck source=bench/service-env.sh
. bench/service-env.sh

# start_nginx DIR ROOT TYPES CACHE_CONTROL: nginx as the reference server: 2 workers, sendfile,
# keep-alive without a request limit, every request logged (the service logs every request
# too), serving ROOT on a free loopback port with ETags and the Cache-Control header given; TYPES
# is the http-block line that names the content types. Its configuration, pid file and logs go
# to DIR. Adds the master to the caller's PIDS; sets NGINX_PORT and NGX_PIDS (the workers, whose
# CPU is the comparison's) once it answers, or prints its logs and exits the script.
start_nginx() {
  local dir=$1 root=$2 types=$3 cache=$4
  NGINX_PORT=$(free_port)
  cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 2;
user root;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log $dir/nginx-access.log;
  sendfile on;
  keepalive_requests 1000000;
$(nginx_temp_paths "$dir")
  $types
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $root;
    etag on;
    add_header Cache-Control "$cache";
  }
}
CONF
  "$NGINX" -c "$dir/nginx.conf" -p "$dir" 2>"$dir/nginx-start.log" &
  PIDS+=("$!")
  local _
  for _ in $(seq 100); do
    [ -s "$dir/nginx.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/" && break
    sleep 0.05
  done
  if ! curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/"; then
    echo "nginx did not start"
    cat "$dir/nginx-start.log" "$dir/nginx-error.log" 2>/dev/null
    exit 1
  fi
  # shellcheck disable=SC2034  # read by the caller
  read -r -a NGX_PIDS <<<"$(pgrep -P "$(cat "$dir/nginx.pid")" | tr '\n' ' ')"
}
