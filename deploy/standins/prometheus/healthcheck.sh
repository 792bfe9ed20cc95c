#!/bin/bash
# GET /-/ready with bash alone (the image has no wget or curl).
exec 3<>/dev/tcp/127.0.0.1/${1:-9090}
printf 'GET /-/ready HTTP/1.0\r\n\r\n' >&3
head -1 <&3 | grep -q ' 200 '
