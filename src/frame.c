/*
 * frame.c - classify Ethernet/802.1Q headers; parse and print MACs.
 *
 * frame_parse() is on the data path: it reads at most 18 bytes, writes
 * only *fi and never fails on anything but length.  The MAC text helpers
 * serve the control socket and the CLI.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "tapswitch/frame.h"

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int
frame_parse(const uint8_t *buf, size_t len, struct frame_info *fi)
{
	uint16_t type, tci;

	if (len < ETH_HDR_LEN)
		return -EINVAL;
	type = get_be16(buf + 12);
	if (type != ETH_TYPE_VLAN) {
		fi->dst = buf;
		fi->src = buf + ETH_ADDR_LEN;
		fi->vid = 0;
		fi->pcp = 0;
		fi->tagged = false;
		fi->l2_len = ETH_HDR_LEN;
		fi->ethertype = type;
		return 0;
	}
	if (len < ETH_HDR_LEN + VLAN_TAG_LEN)
		return -EINVAL;
	tci = get_be16(buf + 14);
	fi->dst = buf;
	fi->src = buf + ETH_ADDR_LEN;
	fi->vid = tci & 0xfff;
	fi->pcp = tci >> 13;
	fi->tagged = true;
	fi->l2_len = ETH_HDR_LEN + VLAN_TAG_LEN;
	fi->ethertype = get_be16(buf + 16);
	return 0;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mac_parse(const char *s, uint8_t mac[ETH_ADDR_LEN])
{
	uint8_t out[ETH_ADDR_LEN];
	char sep = s[0] != '\0' && s[1] != '\0' ? s[2] : '\0';
	int hi, lo;

	/* Exactly six pairs of hex digits, all separated by the same ':' or
	 * '-'; nothing before or after. */
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (int i = 0; i < ETH_ADDR_LEN; i++, s += 3) {
		if ((hi = hex_digit(s[0])) < 0 || (lo = hex_digit(s[1])) < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
		if (s[2] != (i == ETH_ADDR_LEN - 1 ? '\0' : sep))
			return -EINVAL;
	}
	memcpy(mac, out, ETH_ADDR_LEN);
	return 0;
}

char *
mac_format(const uint8_t mac[ETH_ADDR_LEN], char *buf)
{
	snprintf(buf, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x",
	    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
