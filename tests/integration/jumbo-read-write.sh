#!/usr/bin/env bash
# jumbo-read-write.sh - jumbo.sh on the read/write data path
# (io_uring = no; see lib.sh).
TSW_IO_URING=no exec bash "$(dirname "$0")/jumbo.sh"
