#!/usr/bin/env bash
# iperf-io-uring.sh - iperf.sh on the io_uring data path (see lib.sh).
TSW_IO_URING=yes exec bash "$(dirname "$0")/iperf.sh"
