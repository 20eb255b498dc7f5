#!/usr/bin/env bash
# link-events-read-write.sh - link-events.sh on the read/write data path
# (io_uring = no; see lib.sh).
TSW_IO_URING=no exec bash "$(dirname "$0")/link-events.sh"
