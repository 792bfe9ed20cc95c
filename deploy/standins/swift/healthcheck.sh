#!/bin/bash
# The proxy's /healthcheck with bash alone.
exec 3<>/dev/tcp/127.0.0.1/8080
printf 'GET /healthcheck HTTP/1.0\r\n\r\n' >&3
head -1 <&3 | grep -q ' 200 '
