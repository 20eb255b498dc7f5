#!/usr/bin/env bash
# vlan-read-write.sh - vlan.sh on the read/write data path
# (io_uring = no; see lib.sh).
TSW_IO_URING=no exec bash "$(dirname "$0")/vlan.sh"
