#!/usr/bin/env bash
# The replica build done by hand, no orchestrator: what an operator with a shell would run.
# Stream a backup of the source straight into the new datadir, prepare it, start mariadbd,
# point it at the source from the backup's GTID, and wait until it has caught up.
# Prints one "phase <name> <seconds>" line per step (snapshot+extract is one streamed step).
#
# With SNAPSHOT_FILE set, the backup goes through a file the way createReplicas uses its
# snapshot store (the backup writes the file, the restore follows it as it grows) instead of
# a pipe: the same design as the product, by hand, so the two baselines tell the cost of
# storing the snapshot apart from the cost of orchestrating.
#
# Environment: SRC_SOCKET, SRC_HOST, SRC_USER and MYSQL_PWD (the source's admin, over its
# socket), REPL_USER / REPL_PASSWORD (created on the source), TARGET_DIR (empty or absent),
# SERVER_ID, BIND (address), PORT, BUFFER_POOL_MB. The replica is left running; its pid is
# in $TARGET_DIR/mysqld.pid.
set -euo pipefail
: "${SRC_SOCKET:?}" "${SRC_HOST:?}" "${SRC_USER:?}" "${MYSQL_PWD:?}" "${REPL_USER:?}" "${REPL_PASSWORD:?}"
: "${TARGET_DIR:?}" "${SERVER_ID:?}" "${BIND:?}" "${PORT:?}" "${BUFFER_POOL_MB:=1024}"

now() { date +%s.%N; }
phase() { awk -v a="$(now)" -v b="$2" -v n="$1" 'BEGIN { printf "phase %s %.3f\n", n, a - b }'; }
src() { mariadb --socket="$SRC_SOCKET" --user="$SRC_USER" --batch --skip-column-names -e "$1"; }

data="$TARGET_DIR/data"
mkdir -p "$data" "$TARGET_DIR/scratch"

backup() { mariadb-backup --backup --stream=xbstream --target-dir="$TARGET_DIR/scratch" --socket="$SRC_SOCKET" --user="$SRC_USER" 2>"$TARGET_DIR/backup.log"; }

t=$(now)
if [ -n "${SNAPSHOT_FILE:-}" ]; then
  : >"$SNAPSHOT_FILE"
  backup >"$SNAPSHOT_FILE" &
  writer=$!
  # tail ends once the writer has exited and the file is read to its end.
  tail -c +1 -s 0.05 -f --pid="$writer" "$SNAPSHOT_FILE" | mbstream -x -C "$data"
  wait "$writer"
  rm -f "$SNAPSHOT_FILE"
else
  backup | mbstream -x -C "$data"
fi
phase snapshot_extract "$t"

t=$(now)
mariadb-backup --prepare --target-dir="$data" 2>"$TARGET_DIR/prepare.log"
phase prepare "$t"

t=$(now)
cat >"$TARGET_DIR/my.cnf" <<CNF
[mariadbd]
datadir = $data
socket = $TARGET_DIR/mysqld.sock
pid-file = $TARGET_DIR/mysqld.pid
log-error = $TARGET_DIR/error.log
bind-address = $BIND
port = $PORT
server_id = $SERVER_ID
log_bin = mysql-bin
relay_log = relay-bin
binlog_format = ROW
log_slave_updates = ON
gtid_strict_mode = ON
read_only = ON
innodb_buffer_pool_size = ${BUFFER_POOL_MB}M
innodb_log_file_size = 48M
skip-name-resolve
performance_schema = OFF
CNF
mariadbd --defaults-file="$TARGET_DIR/my.cnf" --user=root >/dev/null 2>&1 &
until [ -S "$TARGET_DIR/mysqld.sock" ] && mariadb --socket="$TARGET_DIR/mysqld.sock" --user=root -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.1; done
phase start "$t"

t=$(now)
gtid=$(awk '{print $3}' "$data"/mariadb_backup_binlog_info 2>/dev/null || awk '{print $3}' "$data"/xtrabackup_binlog_info)
src "CREATE USER IF NOT EXISTS '$REPL_USER'@'%' IDENTIFIED BY '$REPL_PASSWORD'; GRANT REPLICATION SLAVE ON *.* TO '$REPL_USER'@'%';"
mariadb --socket="$TARGET_DIR/mysqld.sock" --user=root -e "
  SET GLOBAL gtid_slave_pos = '$gtid';
  CHANGE MASTER TO MASTER_HOST='$SRC_HOST', MASTER_PORT=3306, MASTER_USER='$REPL_USER', MASTER_PASSWORD='$REPL_PASSWORD', MASTER_USE_GTID=slave_pos;
  START SLAVE;"
phase attach "$t"

t=$(now)
target=$(src 'SELECT @@global.gtid_binlog_pos')
caught=$(mariadb --socket="$TARGET_DIR/mysqld.sock" --user=root --batch --skip-column-names -e "SELECT MASTER_GTID_WAIT('$target', 600)")
[ "$caught" = 0 ] || { echo "replica did not catch up to $target" >&2; exit 1; }
phase catch_up "$t"
