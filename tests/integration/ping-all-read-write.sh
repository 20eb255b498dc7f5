#!/usr/bin/env bash
# ping-all-read-write.sh - ping-all.sh on the read/write data path
# (io_uring = no; see lib.sh).
TSW_IO_URING=no exec bash "$(dirname "$0")/ping-all.sh"
