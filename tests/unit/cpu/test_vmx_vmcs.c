/*
 * The VMCS through the C API (cpu/vmx.h) the way L0 uses it: every field of the table
 * round-trips with its width (SDM 26.11.2), the high-half access of 64-bit fields,
 * unsupported encodings (error 12, SDM 32.3 VMREAD/VMWRITE), the read-only data
 * fields writable because IA32_VMX_MISC[29] = 1 (SDM A.6), and the API's own
 * VMCLEAR/VMPTRLD/VMXON/INVEPT/INVVPID outcomes (SDM 32.2, 32.4).
 */
#include "vmx_harness.h"

#include "cpu/vmx/vmx_internal.h"

static uint64_t width_mask(unsigned width)
{
	/* SDM 26.11.2 Table 26-21: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural (64 here). */
	return width == 0 ? 0xFFFF : width == 2 ? 0xFFFFFFFF : ~0ULL;
}

static uint32_t insn_error(void)
{
	return (uint32_t)VMCS_GET(V, VM_INSTRUCTION_ERROR);
}

/* Every field: a full write keeps exactly the field's width; 64-bit fields have a
 * high half at encoding + 1 (the low half is kept); other fields have none. */
static void test_every_field_round_trips(void)
{
	for (int i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		uint64_t pattern = 0x8877665544332211ULL ^ ((uint64_t)i * 0x0101010101010101ULL);
		uint64_t v = 0;
		CHECK_EQ(vmx_vmwrite(C, f->encoding, pattern), VMX_SUCCEED);
		CHECK_EQ(vmx_vmread(C, f->encoding, &v), VMX_SUCCEED);
		if (v != (pattern & width_mask(f->width)))
			fprintf(stderr, "field %s\n", f->name);
		CHECK_EQ(v, pattern & width_mask(f->width));
		CHECK_EQ(VMCS_ENC_WIDTH(f->encoding), f->width);
		uint32_t high = f->encoding | VMCS_ENC_HIGH;
		if (f->width == W64) {
			CHECK_EQ(vmx_vmwrite(C, high, 0xAABBCCDD99887766ULL), VMX_SUCCEED);
			CHECK_EQ(vmx_vmread(C, f->encoding, &v), VMX_SUCCEED);
			CHECK_EQ(v, 0x9988776600000000ULL | (pattern & 0xFFFFFFFF));
			CHECK_EQ(vmx_vmread(C, high, &v), VMX_SUCCEED);
			CHECK_EQ(v, 0x99887766);
		} else {
			CHECK_EQ(vmx_vmwrite(C, high, 1), VMX_FAIL_VALID);
			CHECK_EQ(insn_error(), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
			CHECK_EQ(vmx_vmread(C, high, &v), VMX_FAIL_VALID);
			CHECK_EQ(insn_error(), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
		}
	}
}

/* A few encodings straight from SDM App. B, independent of the table. */
static void test_known_encodings(void)
{
	uint64_t v;
	vw(0x681E, 0x1234); /* guest RIP, natural width */
	CHECK_EQ(vr(VMCS_GUEST_RIP), 0x1234);
	vw(0x0800, 0x18); /* guest ES selector, 16-bit */
	CHECK_EQ(vr(VMCS_GUEST_ES_SELECTOR), 0x18);
	vw(0x2800, ~0ULL); /* VMCS link pointer, 64-bit */
	CHECK_EQ(vr(VMCS_VMCS_LINK_POINTER), ~0ULL);
	CHECK_EQ(vmx_vmread(C, 0x4400, &v), VMX_SUCCEED); /* VM-instruction error, 32-bit */
	CHECK_EQ(VMCS_VM_EXIT_REASON, 0x4402);
	CHECK_EQ(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0x4824);
	CHECK_EQ(VMCS_HOST_RIP, 0x6C16);
	CHECK_EQ(VMCS_EPT_POINTER, 0x201A);
}

/* Every 15-bit encoding: supported iff it (bit 0 clear) is a table row, or it is the
 * high half of a 64-bit row; any of bits 31:15 set is unsupported (SDM 26.11.2). */
static void test_unsupported_encodings(void)
{
	bool in_table[1 << 15] = { false };
	for (int i = 0; i < VMCS_FIELD_COUNT; i++) {
		in_table[vmcs_field_table[i].encoding] = true;
		if (vmcs_field_table[i].width == W64)
			in_table[vmcs_field_table[i].encoding | 1] = true;
	}
	int mismatches = 0;
	for (uint32_t e = 0; e < (1u << 15); e++) {
		uint64_t v;
		enum vmx_result r = vmx_vmread(C, e, &v);
		if ((r == VMX_SUCCEED) != in_table[e])
			mismatches++;
		if (r != VMX_SUCCEED && insn_error() != VMXERR_UNSUPPORTED_VMCS_COMPONENT)
			mismatches++;
	}
	CHECK_EQ(mismatches, 0);
	uint32_t bad_bits[] = { BIT(15), BIT(16), BIT(24), BIT(31) };
	for (unsigned i = 0; i < ARRAY_SIZE(bad_bits); i++) {
		uint64_t v = 7;
		CHECK_EQ(vmx_vmread(C, VMCS_GUEST_RIP | bad_bits[i], &v), VMX_FAIL_VALID);
		CHECK_EQ(insn_error(), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
		CHECK_EQ(v, 7); /* nothing stored */
		CHECK_EQ(vmx_vmwrite(C, VMCS_GUEST_RIP | bad_bits[i], 0), VMX_FAIL_VALID);
		CHECK_EQ(insn_error(), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	}
	/* Reserved bit 12 of an otherwise valid encoding. */
	CHECK_EQ(vmx_vmwrite(C, VMCS_GUEST_RIP | BIT(12), 0), VMX_FAIL_VALID);
}

/* The read-only data fields (type 1) accept VMWRITE: IA32_VMX_MISC[29] = 1 (SDM A.6,
 * 32.3 VMWRITE "VMWRITE to read-only VMCS component" only without it). */
static void test_readonly_writable(void)
{
	CHECK(VMX_MISC_VALUE & VMX_MISC_VMWRITE_ANY_FIELD);
	int n = 0;
	for (int i = 0; i < VMCS_FIELD_COUNT; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		if (f->type != EXITINFO)
			continue;
		n++;
		CHECK_EQ(vmx_vmwrite(C, f->encoding, 0x5A), VMX_SUCCEED);
		CHECK_EQ(vr(f->encoding), 0x5A);
	}
	CHECK(n >= 8); /* SDM 26.9: exit reason ... instruction information, at least */
}

/* A value stored beyond a field's width (a software VMM writing its region directly)
 * reads back masked to the width. */
static void test_region_garbage_masked(void)
{
	V->field[VMCS_ID_GUEST_ES_SELECTOR] = 0xFFFFFFFFFFFF0018ULL;
	CHECK_EQ(vr(VMCS_GUEST_ES_SELECTOR), 0x18);
	V->field[VMCS_ID_GUEST_ES_LIMIT] = 0x1234FFFFFFFFULL;
	CHECK_EQ(vr(VMCS_GUEST_ES_LIMIT), 0xFFFFFFFF);
}

/* The C API's own checks (SDM 32.3 as they apply to host pointers). */
static void test_api_outcomes(void)
{
	uint64_t v;
	CHECK_EQ(vmx_native_on(C), VMX_FAIL_VALID); /* VMXON in VMX root operation */
	CHECK_EQ(insn_error(), VMXERR_VMXON_IN_VMX_ROOT_OPERATION);
	CHECK_EQ(vmx_vmclear(C, NULL), VMX_FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMCLEAR_INVALID_ADDRESS);
	struct vmcs *odd = (struct vmcs *)((uint8_t *)V + 8);
	CHECK_EQ(vmx_vmclear(C, odd), VMX_FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMCLEAR_INVALID_ADDRESS);
	CHECK_EQ(vmx_vmptrld(C, odd), VMX_FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMPTRLD_INVALID_ADDRESS);
	struct vmcs *w = vmcs_alloc();
	CHECK(w != NULL);
	CHECK_EQ(w->revision_id, VMX_REVISION_ID);
	w->revision_id = VMX_REVISION_ID | BIT(31); /* shadow-VMCS indicator */
	CHECK_EQ(vmx_vmptrld(C, w), VMX_FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMPTRLD_INCORRECT_REVISION_ID);
	CHECK(vmx_vmptrst(C) == V);
	/* INVEPT/INVVPID (SDM 32.3): types and operands. */
	CHECK_EQ(vmx_invept(C, INVEPT_ALL_CONTEXT, 0), VMX_SUCCEED);
	CHECK_EQ(vmx_invept(C, INVEPT_SINGLE_CONTEXT, 0x5000 | 0x1E), VMX_SUCCEED);
	CHECK_EQ(vmx_invept(C, INVEPT_SINGLE_CONTEXT, 0x5000 | 0x1D), VMX_FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
	CHECK_EQ(vmx_invept(C, 0, 0), VMX_FAIL_VALID);
	CHECK_EQ(vmx_invvpid(C, INVVPID_INDIVIDUAL_ADDRESS, 1, 0x1000), VMX_SUCCEED);
	CHECK_EQ(vmx_invvpid(C, INVVPID_INDIVIDUAL_ADDRESS, 1, 0x800000000000ULL), VMX_FAIL_VALID);
	CHECK_EQ(vmx_invvpid(C, INVVPID_SINGLE_CONTEXT, 0, 0), VMX_FAIL_VALID);
	CHECK_EQ(vmx_invvpid(C, INVVPID_ALL_CONTEXT, 0, 0), VMX_SUCCEED);
	CHECK_EQ(vmx_invvpid(C, 4, 1, 0), VMX_FAIL_VALID);
	/* VMCLEAR of the current VMCS: no current VMCS, failures become VMfailInvalid. */
	V->launch_state = VMCS_STATE_LAUNCHED;
	CHECK_EQ(vmx_vmclear(C, V), VMX_SUCCEED);
	CHECK_EQ(V->launch_state, VMCS_STATE_CLEAR);
	CHECK(vmx_vmptrst(C) == NULL);
	CHECK_EQ(vmx_vmread(C, VMCS_GUEST_RIP, &v), VMX_FAIL_INVALID);
	CHECK_EQ(vmx_vmwrite(C, VMCS_GUEST_RIP, 0), VMX_FAIL_INVALID);
	CHECK_EQ(vmx_invept(C, 0, 0), VMX_FAIL_INVALID);
	w->revision_id = VMX_REVISION_ID;
	CHECK_EQ(vmx_vmptrld(C, w), VMX_SUCCEED);
	CHECK(vmx_vmptrst(C) == w);
	CHECK_EQ(vmx_native_off(C), VMX_SUCCEED);
	CHECK(vmx_vmptrst(C) == NULL);
	CHECK_EQ(vmx_vmptrld(C, w), VMX_FAIL_INVALID); /* outside VMX operation */
	vmcs_free(w);
}

int main(void)
{
	vmx_init();
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	test_every_field_round_trips();
	test_known_encodings();
	test_unsupported_encodings();
	test_readonly_writable();
	test_region_garbage_masked();
	test_api_outcomes();
	return report("vmx_vmcs");
}
