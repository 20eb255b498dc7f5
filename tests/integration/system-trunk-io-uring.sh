#!/usr/bin/env bash
# system-trunk-io-uring.sh - system-trunk.sh on the io_uring data path (see lib.sh).
TSW_IO_URING=yes exec bash "$(dirname "$0")/system-trunk.sh"
