# shellcheck shell=bash
# Sourced by the benchmark scripts: the service started the same way everywhere (embedded
# defaults unless bench/engines-env.sh exported others, rate limits off: one user sends thousands
# of requests a second; access logs on at LOG_LEVEL=info, the production default, so that their
# cost is part of every number), and the small readers of /proc and of the load generator's JSON.

# A free TCP port on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_isvc LOG DATA_DIR BIN [VAR=VALUE…]: `BIN serve` in the background on a free loopback port,
# with the extra environment given. Sets ISVC_PID, and ISVC_PORT once the service has logged its
# port (within 20 s); otherwise prints the log and exits the script.
start_isvc() {
  local log=$1 data=$2 bin=$3
  shift 3
  env RATE_LIMITS_ENABLED=false HOST=127.0.0.1 PORT=0 DATA_DIR="$data" STAGE=dev LOG_LEVEL=info \
    "$@" "$bin" serve >"$log" 2>&1 &
  ISVC_PID=$!
  ISVC_PORT=""
  for _ in $(seq 400); do
    ISVC_PORT=$(grep -o '"port":[0-9]*' "$log" 2>/dev/null | head -1 | cut -d: -f2 || true)
    [ -n "$ISVC_PORT" ] && return 0
    kill -0 "$ISVC_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill "$ISVC_PID" 2>/dev/null || true
  echo "the service did not start ($bin serve)"
  cat "$log"
  exit 1
}

# cpu_ms PID…: the CPU time (utime + stime, all threads) the processes have used, in ms.
cpu_ms() {
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo $((t * 1000 / $(getconf CLK_TCK)))
}

# gallery_photo DIR: the path of a photo to upload for the file-delivery runs: the corpus's 3 MB
# JPEG, or without ../shared a 2400x1800 noise JPEG made in DIR (a main image of a few hundred KB).
gallery_photo() {
  local photo=../shared/testdata/images/photo_3mb.jpg
  if [ ! -f "$photo" ]; then
    vips gaussnoise "$1/n.v" 2400 1800 --mean 128 --sigma 60
    vips cast "$1/n.v" "$1/n8.v" uchar
    vips jpegsave "$1/n8.v" "$1/photo.jpg" --Q 92
    photo=$1/photo.jpg
  fi
  echo "$photo"
}

# field JSON NAME: a number from the load generator's one-line JSON.
field() { echo "$1" | grep -o "\"$2\":[0-9.]*" | cut -d: -f2; }
