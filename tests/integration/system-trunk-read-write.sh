#!/usr/bin/env bash
# system-trunk-read-write.sh - system-trunk.sh on the read/write data path
# (io_uring = no; see lib.sh).
TSW_IO_URING=no exec bash "$(dirname "$0")/system-trunk.sh"
