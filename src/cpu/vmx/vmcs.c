/*
 * The VMCS: field table, encoding lookup and the VMREAD/VMWRITE core (SDM 26.11.2,
 * 32.3 VMREAD/VMWRITE). All derived from vmcs_fields.def.
 */
#include "cpu/vmx/vmx_internal.h"

/* Every row's encoding must carry its own width and type (SDM Table 26-21) and have
 * access-type bit 0 clear. */
#define VMCS_FIELD(name, enc, width, type)                                            \
	_Static_assert(VMCS_ENC_WIDTH(enc) == (width) && VMCS_ENC_TYPE(enc) == (type) &&  \
			       ((enc) & VMCS_ENC_HIGH) == 0 && (enc) < 0x8000,                    \
		       "VMCS field " #name ": encoding disagrees with its width or type");
#include "cpu/vmx/vmcs_fields.def"
#undef VMCS_FIELD

const struct vmcs_field_info vmcs_field_table[VMCS_FIELD_COUNT] = {
#define VMCS_FIELD(name, enc, width, type) [VMCS_ID_##name] = { #name, enc, width, type },
#include "cpu/vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* Encoding (bit 0 dropped) -> dense index + 1; 0 = no such field. Encodings are
 * 15 bits (bits 31:15 must be 0), so the table has 16K entries. */
static const uint8_t vmcs_by_encoding[1 << 14] = {
#define VMCS_FIELD(name, enc, width, type) [(enc) >> 1] = VMCS_ID_##name + 1,
#include "cpu/vmx/vmcs_fields.def"
#undef VMCS_FIELD
};
_Static_assert(VMCS_FIELD_COUNT < 255, "dense index fits the lookup table");

int vmcs_lookup(uint64_t encoding, bool *high)
{
	if (encoding >> 15)
		return -1; /* bits 63:15 set: unsupported component (SDM 32.3 VMREAD) */
	int id = (int)vmcs_by_encoding[encoding >> 1] - 1;
	if (id < 0)
		return -1;
	*high = encoding & VMCS_ENC_HIGH;
	/* Only 64-bit fields have a high half (SDM 26.11.2). */
	if (*high && vmcs_field_table[id].width != W64)
		return -1;
	return id;
}

static uint64_t width_mask(unsigned width)
{
	switch (width) {
	case W16: return 0xFFFF;
	case W32: return 0xFFFFFFFF;
	default: return ~0ULL;
	}
}

void vmcs_set(struct vmcs *v, enum vmcs_id id, uint64_t value)
{
	v->field[id] = value & width_mask(vmcs_field_table[id].width);
}

enum vmx_insn_error vmcs_read_field(const struct vmcs *v, uint64_t encoding, uint64_t *value)
{
	bool high;
	int id = vmcs_lookup(encoding, &high);
	if (id < 0)
		return VMXERR_UNSUPPORTED_VMCS_COMPONENT;
	/* Masked to the width: a software VMM may have written its region directly
	 * (undefined per SDM 26.11.1, but never more bits than the field has). */
	uint64_t raw = v->field[id] & width_mask(vmcs_field_table[id].width);
	*value = high ? raw >> 32 : raw;
	return 0;
}

enum vmx_insn_error vmcs_write_field(struct vmcs *v, uint64_t encoding, uint64_t value)
{
	bool high;
	int id = vmcs_lookup(encoding, &high);
	if (id < 0)
		return VMXERR_UNSUPPORTED_VMCS_COMPONENT;
	/* Read-only data fields are writable because IA32_VMX_MISC[29] = 1 (SDM 32.3
	 * VMWRITE, A.6); without that bit this would be error 13. */
	if (vmcs_field_table[id].type == EXITINFO && !(VMX_MISC_VALUE & VMX_MISC_VMWRITE_ANY_FIELD))
		return VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT;
	if (high)
		v->field[id] = (v->field[id] & 0xFFFFFFFFULL) | (value << 32);
	else
		vmcs_set(v, id, value);
	return 0;
}

unsigned vmcs_max_index(void)
{
	unsigned max = 0;
	for (int i = 0; i < VMCS_FIELD_COUNT; i++)
		if (VMCS_ENC_INDEX(vmcs_field_table[i].encoding) > max)
			max = VMCS_ENC_INDEX(vmcs_field_table[i].encoding);
	return max;
}

static const char *const exit_reason_names[EXIT_REASON_MAX] = {
#define EXIT_REASON(name, num, str) [num] = str,
#include "cpu/vmx/exit_reasons.def"
#undef EXIT_REASON
};

const char *vmx_exit_reason_name(uint32_t basic_reason)
{
	if (basic_reason < EXIT_REASON_MAX && exit_reason_names[basic_reason])
		return exit_reason_names[basic_reason];
	return "unknown";
}
