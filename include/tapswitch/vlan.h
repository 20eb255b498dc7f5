/*
 * vlan.h - sets of 802.1Q VLAN ids (1..4094) as a 4096-bit bitmap.
 *
 * Used by the config parser (trunk = 10,20-30) and by the data path to
 * test trunk membership in O(1).  Header-only.
 */
#ifndef TAPSWITCH_VLAN_H
#define TAPSWITCH_VLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define VLAN_MIN 1
#define VLAN_MAX 4094

struct vlan_set {
	uint64_t bits[4096 / 64];
};

static inline void
vlan_set_clear(struct vlan_set *s)
{
	memset(s, 0, sizeof(*s));
}

static inline void
vlan_set_add(struct vlan_set *s, uint16_t vid)
{
	s->bits[(vid & 4095) / 64] |= UINT64_C(1) << (vid % 64);
}

static inline bool
vlan_set_has(const struct vlan_set *s, uint16_t vid)
{
	return (s->bits[(vid & 4095) / 64] >> (vid % 64)) & 1;
}

static inline bool
vlan_set_empty(const struct vlan_set *s)
{
	for (unsigned i = 0; i < 4096 / 64; i++)
		if (s->bits[i])
			return false;
	return true;
}

static inline bool
vlan_set_equal(const struct vlan_set *a, const struct vlan_set *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Parse "10,20,30-40" into s (cleared first).  Returns 0, or -EINVAL with
 * a static message in *why ("VLAN 5000 outside 1..4094", ...). */
int vlan_set_parse(const char *text, struct vlan_set *s, const char **why);

/* Format as "10,20,30-40" into buf (always NUL-terminated, truncated with
 * "..." if it does not fit).  Returns buf. */
char *vlan_set_format(const struct vlan_set *s, char *buf, size_t size);

#endif
