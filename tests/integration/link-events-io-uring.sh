#!/usr/bin/env bash
# link-events-io-uring.sh - link-events.sh on the io_uring data path (see lib.sh).
TSW_IO_URING=yes exec bash "$(dirname "$0")/link-events.sh"
