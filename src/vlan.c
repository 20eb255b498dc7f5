/*
 * vlan.c - VLAN id lists in text form ("10,20,30-40") to and from the
 * bitmap of vlan.h.
 *
 * The config parser and the control socket parse trunk lists with
 * vlan_set_parse(); port listings print them with vlan_set_format().
 * Both run on the main thread; the data path only uses the inline
 * helpers of the header.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tapswitch/vlan.h"

/*
 * Messages that name the offending item are built here.  The buffer is
 * per thread, so *why stays valid until the same thread parses again.
 */
static __thread char why_buf[96];

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copy at most 16 bytes of an item for a message, replacing what would
 * not print. */
static void
item_text(const char *s, size_t len, char *out, size_t size)
{
	size_t i, n = len < 16 ? len : 16;

	if (n > size - 4)
		n = size - 4;
	for (i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n < len) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/*
 * Parse a VLAN id at *p (digits only, leading blanks skipped), leaving *p
 * after it.  Returns the value saturated at 10000 so that no digit string
 * can overflow, or -1 when there is no digit.
 */
static int
parse_vid(const char **p)
{
	const char *s = *p;
	int v = 0;

	while (is_blank(*s))
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > 10000)
			v = 10000;
	}
	while (is_blank(*s))
		s++;
	*p = s;
	return v;
}

/* Add lo..hi a word at a time, so a list of many wide ranges stays cheap. */
static void
add_range(struct vlan_set *s, unsigned lo, unsigned hi)
{
	while (lo <= hi) {
		unsigned w = lo / 64, b = lo % 64;
		unsigned n = hi - lo + 1 < 64 - b ? hi - lo + 1 : 64 - b;
		uint64_t mask = n == 64 ? UINT64_MAX :
		    ((UINT64_C(1) << n) - 1) << b;

		s->bits[w] |= mask;
		lo += n;
	}
}

static int
parse_item(const char *item, size_t len, struct vlan_set *s,
    const char **why)
{
	char shown[24];
	const char *p = item, *end = item + len;
	bool range = false;
	int lo, hi;

	item_text(item, len, shown, sizeof(shown));
	lo = parse_vid(&p);
	hi = lo;
	if (lo >= 0 && p < end && *p == '-') {
		p++;
		hi = parse_vid(&p);
		range = true;
	}
	/* parse_vid may skip the blanks that follow the item, never more. */
	if (lo < 0 || hi < 0 || p < end) {
		snprintf(why_buf, sizeof(why_buf),
		    "\"%s\" is not a VLAN id or a range like 30-40", shown);
		*why = why_buf;
		return -EINVAL;
	}
	if (lo < VLAN_MIN || lo > VLAN_MAX || hi < VLAN_MIN ||
	    hi > VLAN_MAX) {
		snprintf(why_buf, sizeof(why_buf), "%s %s outside %d..%d",
		    range ? "range" : "VLAN", shown, VLAN_MIN, VLAN_MAX);
		*why = why_buf;
		return -EINVAL;
	}
	if (lo > hi) {
		snprintf(why_buf, sizeof(why_buf),
		    "range %d-%d is backwards; write the lower VLAN first",
		    lo, hi);
		*why = why_buf;
		return -EINVAL;
	}
	add_range(s, (unsigned)lo, (unsigned)hi);
	return 0;
}

int
vlan_set_parse(const char *text, struct vlan_set *s, const char **why)
{
	const char *p = text, *comma;
	size_t len;
	int r;

	vlan_set_clear(s);
	while (is_blank(*p))
		p++;
	if (*p == '\0') {
		*why = "empty list; give VLAN ids like 10,20,30-40";
		return -EINVAL;
	}
	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		/* Items may have blanks around them: "10, 20 ,30". */
		while (len > 0 && is_blank(*p)) {
			p++;
			len--;
		}
		while (len > 0 && is_blank(p[len - 1]))
			len--;
		if (len == 0) {
			*why = "empty item in the list (a stray comma?)";
			vlan_set_clear(s);
			return -EINVAL;
		}
		if ((r = parse_item(p, len, s, why)) < 0) {
			vlan_set_clear(s);
			return r;
		}
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

char *
vlan_set_format(const struct vlan_set *s, char *buf, size_t size)
{
	char item[16];
	size_t pos = 0;
	unsigned lo, hi, next;
	int n;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (lo = VLAN_MIN; lo <= VLAN_MAX; lo = next) {
		if (!vlan_set_has(s, (uint16_t)lo)) {
			next = lo + 1;
			continue;
		}
		for (hi = lo; hi < VLAN_MAX &&
		    vlan_set_has(s, (uint16_t)(hi + 1)); hi++)
			;
		for (next = hi + 1; next <= VLAN_MAX &&
		    !vlan_set_has(s, (uint16_t)next); next++)
			;
		if (lo == hi)
			n = snprintf(item, sizeof(item), "%s%u", pos ? "," : "",
			    lo);
		else
			n = snprintf(item, sizeof(item), "%s%u-%u",
			    pos ? "," : "", lo, hi);
		/* Keep room for ",..." unless this is the last item. */
		if (pos + (size_t)n + (next <= VLAN_MAX ? 4 : 0) + 1 > size) {
			const char *more = pos ? ",..." : "...";
			size_t m = strlen(more);

			/* Only the first item can find less room than that. */
			if (m > size - 1 - pos)
				m = size - 1 - pos;
			memcpy(buf + pos, more, m);
			buf[pos + m] = '\0';
			return buf;
		}
		memcpy(buf + pos, item, (size_t)n + 1);
		pos += (size_t)n;
	}
	return buf;
}
