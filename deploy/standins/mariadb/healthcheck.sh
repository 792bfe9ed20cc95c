#!/bin/bash
# The official image's healthcheck.sh, as far as the compose file uses it (--connect,
# --innodb_initialized): the server answers on its socket with InnoDB up.
exec mariadb --protocol=socket -uroot -N -e "SELECT 1 FROM information_schema.ENGINES WHERE ENGINE='InnoDB' AND SUPPORT IN ('YES','DEFAULT')" >/dev/null
