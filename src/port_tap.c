/* port_tap.c - not written yet */
#include "config.h"
