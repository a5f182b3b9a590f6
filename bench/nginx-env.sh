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
