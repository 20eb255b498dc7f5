#!/usr/bin/env bash
# ping-all-io-uring.sh - ping-all.sh on the io_uring data path (see lib.sh).
TSW_IO_URING=yes exec bash "$(dirname "$0")/ping-all.sh"
