#!/usr/bin/env bash
# jumbo-io-uring.sh - jumbo.sh on the io_uring data path (see lib.sh).
TSW_IO_URING=yes exec bash "$(dirname "$0")/jumbo.sh"
