#!/usr/bin/env bash
# Runs every test of leadwire: unit, HTTP, crash, CLI, fuzz seeds, the
# PostgreSQL store and the browser SDK in a real headless Chromium.
# Installs Chromium and PostgreSQL from Debian's packages when they are
# missing; Go modules come through the module proxy.
#
# The PostgreSQL tests use the server LEADWIRE_TEST_POSTGRES names (a
# postgres:// URL), else the one listening on 127.0.0.1:5432 (user
# postgres, database test, trust auth), else a throwaway one this script
# starts in a temporary directory and stops at the end.
set -euo pipefail
cd "$(dirname "$0")"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
apt_updated=""
install() {
	[ -n "$apt_updated" ] || $sudo apt-get update -qq
	apt_updated=1
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x /usr/bin/chromium ]; then # where internal/browser runs it
	echo "test.sh: installing Debian's chromium for the browser tests"
	install chromium
fi

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_postgres starts a throwaway PostgreSQL on a free port, trust auth,
# and exports LEADWIRE_TEST_POSTGRES.
start_postgres() {
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	if [ -z "$bin" ]; then
		echo "test.sh: installing Debian's postgresql for the PostgreSQL store's tests"
		install postgresql
		bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	fi
	port=55432
	while answers "$port"; do port=$((port + 1)); done
	pgdir=$(mktemp -d)
	as=()
	if [ "$(id -u)" -eq 0 ]; then # PostgreSQL refuses to run as root
		chown postgres "$pgdir"
		as=(runuser -u postgres --)
	fi
	"${as[@]}" "$bin/initdb" -D "$pgdir/data" -A trust -U postgres >/dev/null
	"${as[@]}" "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -s \
		-o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=200" start
	trap '"${as[@]}" "$bin/pg_ctl" -D "$pgdir/data" -m immediate -s stop; rm -rf "$pgdir"' EXIT
	"${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test
	export LEADWIRE_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/test?sslmode=disable"
	echo "test.sh: started a throwaway PostgreSQL for the tests on port $port"
}

if [ -z "${LEADWIRE_TEST_POSTGRES:-}" ] && ! answers 5432; then
	start_postgres
fi
if ! command -v pgbench >/dev/null; then # the load test's baseline
	echo "test.sh: installing Debian's postgresql-client for pgbench"
	install postgresql-client
fi

go vet ./...
go test -count=1 -timeout 40m "$@" ./...
