#!/usr/bin/env bash
# vlan-io-uring.sh - vlan.sh on the io_uring data path (see lib.sh).
TSW_IO_URING=yes exec bash "$(dirname "$0")/vlan.sh"
