# Shared by the benchmark scripts (.ci/bench-*): starting either service, logging in,
# the wrk scenarios. Sourced, never run; expects `set -euo pipefail` and $work.

# A failure inside `$(...)` stops the script too, as everywhere else.
shopt -s inherit_errexit

# The server on core 0, load generators on core 1, when there are two cores.
if [ "$(nproc)" -ge 2 ]; then SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1); else SERVER_CPU=(); LOAD_CPU=(); fi
# Extra words before the server's binary (e.g. valgrind); none by default.
SERVER_WRAP=(${SERVER_WRAP[@]+"${SERVER_WRAP[@]}"})
server_pid=""
# The cargo profile both services are built with (PROFILE=... to compare another).
PROFILE=${PROFILE:-release}
build_services() { cargo build --profile "$PROFILE" -q -p flagship -p baseline; }

need() { # binary debian-package
  command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; }
}

stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi
}

# Starts target/$PROFILE/$1 on $2 with the limits the load runs need raised; extra
# environment (e.g. SECURE_API_TRUSTED_PROXIES) comes from the caller's environment.
# Both log nothing per request (the baseline never does).
start() { # name addr
  case $1 in
    flagship) SECURE_API_ADDR=$2 RUST_LOG=warn SECURE_API_RATE_LIMITS="${FLAGSHIP_LIMITS:-public=1000000000/60s}" \
                "${SERVER_CPU[@]}" "${SERVER_WRAP[@]}" "target/$PROFILE/flagship" >"$work/$1.log" 2>&1 & ;;
    baseline) BASELINE_ADDR=$2 BASELINE_PUBLIC_PER_MINUTE=${BASELINE_PUBLIC_PER_MINUTE:-1000000000} \
                "${SERVER_CPU[@]}" "${SERVER_WRAP[@]}" "target/$PROFILE/baseline" >"$work/$1.log" 2>&1 & ;;
  esac
  server_pid=$!
  for _ in $(seq 600); do curl -s -o /dev/null "http://$2/api/data" && return; sleep 0.1; done
  echo "$1 did not start:"; cat "$work/$1.log"; exit 1
}

# A login can be answered 503 when the hashing threads get no CPU in time (they run
# only on what other work leaves: under valgrind, or next to a build); retry then.
token() { # base user password
  local answer
  for _ in 1 2 3 4 5; do
    answer=$(curl -s -X POST "$1/token" -d "grant_type=password&username=$2&password=$3")
    case $answer in *'"access_token":"'*) sed 's/.*"access_token":"\([^"]*\)".*/\1/' <<<"$answer"; return ;; esac
    sleep 1
  done
  echo "no token for $2 from $1: $answer" >&2; exit 1
}

# wrk's latency in microseconds, from "123.45us", "1.23ms" or "1.02s".
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else {sub(/s/,"",v); print v*1000000}}'; }

# From one wrk --latency output: "rps p50_us p99_us".
wrk_numbers() { # file
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' "$1")
  p50=$(awk '$1=="50%" {print $2}' "$1" | to_us)
  p99=$(awk '$1=="99%" {print $2}' "$1" | to_us)
  echo "$rps $p50 $p99"
}

# Median of column $2 (1-based) of file $1, and with $3=range also "min max".
median() { # file column [range]
  sort -n -k"$2" "$1" | awk -v c="$2" -v range="${3:-}" '{v[NR]=$c} END {
    printf "%s", v[int((NR+1)/2)]; if (range != "") printf " %s %s", v[1], v[NR]; printf "\n" }'
}

write_lua_scripts() {
  cat >"$work/create.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username": "x!", "email": "not-an-email", "password": "short", "roles": ["root"]}'
LUA
  cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
LUA
}

SCENARIOS=(data me list public refused apikey invalid)
# ONLY="data me" runs those scenarios alone, and leaves BENCHMARKS.md as it is.
if [ -n "${ONLY:-}" ]; then read -ra SCENARIOS <<<"$ONLY"; fi
declare -A DESCRIBE=(
  [data]='`GET /api/data` (no guard)'
  [me]='`GET /users/me/` (bearer JWT)'
  [list]='`GET /users/` (JWT + scope)'
  [public]='`GET /api/public` (limit by IP, admitted)'
  [refused]='`POST /api/sensitive` (limit by IP, refused: 429)'
  [apikey]='`GET /api/resource` (API key)'
  [invalid]='`POST /users/` with a 422 body (JWT + scope + validation)'
)

# The wrk arguments (after the options) of one scenario against $base, as alice.
scenario_args() { # scenario base alice-token
  case $1 in
    data)    echo "$2/api/data" ;;
    me)      printf '%s\n' -H "Authorization: Bearer $3" "$2/users/me/" ;;
    list)    printf '%s\n' -H "Authorization: Bearer $3" "$2/users/" ;;
    public)  echo "$2/api/public" ;;
    refused) printf '%s\n' -s "$work/post.lua" "$2/api/sensitive" ;;
    apikey)  printf '%s\n' -H "X-API-Key: valid_api_key_1" "$2/api/resource" ;;
    invalid) printf '%s\n' -H "Authorization: Bearer $3" -s "$work/create.lua" "$2/users/" ;;
  esac
}

# Replaces the section between <!-- $1:begin --> and <!-- $1:end --> of BENCHMARKS.md
# with $2 (appends it when missing).
write_section() { # marker text
  if [ -n "${ONLY:-}" ]; then return; fi
  python3 - "$1" "$2" <<'PY'
import re, sys
marker, body = sys.argv[1], sys.argv[2]
section = f"<!-- {marker}:begin -->\n{body}\n<!-- {marker}:end -->"
text = open("BENCHMARKS.md").read()
pattern = re.compile(rf"<!-- {re.escape(marker)}:begin -->.*?<!-- {re.escape(marker)}:end -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open("BENCHMARKS.md", "w").write(text)
PY
}

machine_line() {
  echo "$(nproc) vCPU $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%F)"
}
