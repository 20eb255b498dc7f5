/*
 * fuzz_vxlan.c - libFuzzer target for datagrams from the underlay: the
 * VXLAN header check and the inner flow hash, with their invariants.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "tapswitch/frame.h"
#include "tapswitch/vxlan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t vni = UINT32_MAX;
	uint8_t h[VXLAN_HDR_LEN];

	switch (vxlan_decode(data, size, &vni)) {
	case VXLAN_RX_OK:
		if (size < VXLAN_HDR_LEN + ETH_HDR_LEN ||
		    !(data[0] & VXLAN_FLAG_I) || vni > VXLAN_VNI_MAX)
			abort();
		/* What we would send for it decodes the same. */
		vxlan_encode(h, vni);
		if (h[4] != data[4] || h[5] != data[5] || h[6] != data[6])
			abort();
		if (vxlan_flow_hash(data + VXLAN_HDR_LEN, size - VXLAN_HDR_LEN)
		    != vxlan_flow_hash(data + VXLAN_HDR_LEN,
		    size - VXLAN_HDR_LEN))
			abort();
		break;
	case VXLAN_RX_SHORT:
		if (size >= VXLAN_HDR_LEN)
			abort();
		break;
	case VXLAN_RX_FLAGS:
		if (size < VXLAN_HDR_LEN || (data[0] & VXLAN_FLAG_I))
			abort();
		break;
	case VXLAN_RX_RUNT:
		if (size >= VXLAN_HDR_LEN + ETH_HDR_LEN)
			abort();
		break;
	default:
		abort();
	}
	(void)vxlan_flow_hash(data, size);
	return 0;
}
