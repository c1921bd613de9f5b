#!/usr/bin/env bash
# Runs every test of leadwire: unit, HTTP, crash, CLI, fuzz seeds and the
# browser SDK in a real headless Chromium. Installs Chromium from Debian's
# packages when it is missing; Go modules come through the module proxy.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then # where internal/browser runs it
	echo "test.sh: installing Debian's chromium for the browser tests"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

go vet ./...
go test -count=1 -timeout 40m "$@" ./...
