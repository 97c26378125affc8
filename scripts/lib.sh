# Shared shell helpers for .ci/run and scripts/*.sh. Source it; do not run it.

# as_root runs a command as root: directly when we are root, else with sudo.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "need root to run: $*" >&2
		return 1
	fi
}

# have_cmd NAME: NAME is on PATH or in an sbin directory a non-root PATH lacks.
have_cmd() {
	command -v "$1" >/dev/null 2>&1 && return 0
	local d
	for d in /usr/sbin /sbin /usr/local/sbin; do
		[ -x "$d/$1" ] && return 0
	done
	return 1
}

# apt_install PKG...: installs Debian packages without starting their services
# (a policy-rc.d that denies every start while apt runs, as in Docker images).
# Tests and the demo run their own mariadbd; the packaged service must stay off.
apt_install() {
	[ "$#" -gt 0 ] || return 0
	echo "installing: $*" >&2
	local policy=/usr/sbin/policy-rc.d added=0
	if [ ! -e "$policy" ]; then
		as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
		added=1
	fi
	local rc=0
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
	if [ "$rc" -eq 0 ]; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" || rc=$?
	fi
	if [ "$added" -eq 1 ]; then
		as_root rm -f "$policy"
	fi
	return "$rc"
}

# ensure_tools: installs mariadb-server, kcat, promtool, a JDK (java, javac:
# Apache Kafka and Debezium run beside the tests), Maven and mariadb-test (the
# mysql-test suite the DDL corpus replays) when absent.
ensure_tools() {
	local pkgs=()
	have_cmd mariadbd || pkgs+=(mariadb-server)
	have_cmd javac || pkgs+=(openjdk-17-jdk-headless)
	have_cmd mvn || pkgs+=(maven)
	have_cmd kcat || pkgs+=(kcat)
	have_cmd promtool || pkgs+=(prometheus)
	# mariadb-test: mysql-test suite and mariadb-test, the DDL corpus (internal/ddlcorpus)
	have_cmd mariadb-test || pkgs+=(mariadb-test)
	have_cmd curl || pkgs+=(curl) # the corpus files call the test back with it
	apt_install "${pkgs[@]}"
}
