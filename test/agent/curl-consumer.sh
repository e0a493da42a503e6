#!/usr/bin/env bash
# A consumer that is not Node, for the certrotor agent test: curl calls seed 001's token endpoint with the
# agent's client.pem / client.key, then the protected balance endpoint with the token, in a loop. It loads
# the files once (copies them, as a server reads its certificate at start) and again only on SIGHUP, which
# bash handles between two commands: a call in flight finishes on the files it started with.
# One line per event on stdout: "loaded", "reloaded", "ok N", "fail N WHAT". Never prints the token.
# args: DIR BANK_URL BANK_CA TOKEN_BODY_FILE ACCOUNT PID_FILE WORK_DIR
set -u
dir=$1 url=$2 ca=$3 body=$4 account=$5 pidfile=$6 work=$7
reload=0 stop=0
trap 'reload=1' HUP
trap 'stop=1' TERM

load() {
  cp "$dir/client.key" "$work/key.pem" && chmod 600 "$work/key.pem" && cp "$dir/client.pem" "$work/cert.pem"
}

load && echo loaded
echo $$ >"$pidfile"
n=0
while [ "$stop" = 0 ]; do
  if [ "$reload" = 1 ]; then
    reload=0
    load && echo reloaded
  fi
  n=$((n + 1))
  tls=(--silent --cacert "$ca" --cert "$work/cert.pem" --key "$work/key.pem")
  token=$(curl "${tls[@]}" -H 'Content-Type: application/json' -d @"$body" \
    "$url/public/gw_banking/v1/auth/token-v2" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
  if [ -z "$token" ]; then
    echo "fail $n token"
  else
    status=$(curl "${tls[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
      "$url/public/gw_banking/v1/accounts/$account/balance")
    if [ "$status" = 200 ]; then echo "ok $n"; else echo "fail $n $status"; fi
  fi
  sleep 0.1 # pacing of the load, not a wait for an event
done
