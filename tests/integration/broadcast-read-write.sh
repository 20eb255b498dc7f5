#!/usr/bin/env bash
# broadcast-read-write.sh - broadcast.sh on the read/write data path
# (io_uring = no; see lib.sh).
TSW_IO_URING=no exec bash "$(dirname "$0")/broadcast.sh"
