#!/bin/bash
# mariadb:10.11 stand-in: the official image's variables (MARIADB_ROOT_PASSWORD, MARIADB_DATABASE,
# MARIADB_USER, MARIADB_PASSWORD), asserted at every start through an init file, so a changed
# password in the env file takes effect on the next start.
set -euo pipefail
: "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is required}"
DATADIR=/var/lib/mysql
mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld "$DATADIR"
if [ ! -d "$DATADIR/mysql" ]; then
  mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db >/dev/null
fi
sql_string() { printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")"; }
init=/run/mysqld/init.sql
umask 077
{
  echo "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD($(sql_string "$MARIADB_ROOT_PASSWORD"));"
  if [ -n "${MARIADB_DATABASE:-}" ]; then echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"; fi
  if [ -n "${MARIADB_USER:-}" ]; then
    : "${MARIADB_PASSWORD:?MARIADB_PASSWORD is required with MARIADB_USER}"
    echo "CREATE USER IF NOT EXISTS '$MARIADB_USER'@'%' IDENTIFIED BY $(sql_string "$MARIADB_PASSWORD");"
    echo "ALTER USER '$MARIADB_USER'@'%' IDENTIFIED BY $(sql_string "$MARIADB_PASSWORD");"
    if [ -n "${MARIADB_DATABASE:-}" ]; then echo "GRANT ALL PRIVILEGES ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'%';"; fi
  fi
} > "$init"
chown mysql "$init"
exec mariadbd --user=mysql --datadir="$DATADIR" --bind-address=0.0.0.0 --port=3306 --skip-name-resolve --init-file="$init" "$@"
