#!/usr/bin/env bash
# system-uplink-read-write.sh - system-uplink.sh on the read/write data path
# (io_uring = no; see lib.sh).
TSW_IO_URING=no exec bash "$(dirname "$0")/system-uplink.sh"
