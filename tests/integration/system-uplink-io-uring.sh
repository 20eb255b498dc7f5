#!/usr/bin/env bash
# system-uplink-io-uring.sh - system-uplink.sh on the io_uring data path (see lib.sh).
TSW_IO_URING=yes exec bash "$(dirname "$0")/system-uplink.sh"
