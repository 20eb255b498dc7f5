#!/usr/bin/env bash
# broadcast-io-uring.sh - broadcast.sh on the io_uring data path (see lib.sh).
TSW_IO_URING=yes exec bash "$(dirname "$0")/broadcast.sh"
