#!/usr/bin/env bash
# iperf-read-write.sh - iperf.sh on the read/write data path
# (io_uring = no; see lib.sh).
TSW_IO_URING=no exec bash "$(dirname "$0")/iperf.sh"
