#include "textflag.h"

// func queuedFix()
// Called by the kernel as an SA_SIGINFO handler (ELFv2): R3 = signal, R4
// = siginfo, R5 = context, LR the restorer, R12 this function's address.
// si_code is the int32 at offset 8 of siginfo. Only R11 and R12 (volatile
// in ELFv2) are used; R12 and CTR hold the target at the jump, as an
// ELFv2 caller leaves them; the jump keeps the stack and LR.
TEXT ·queuedFix(SB),NOSPLIT|NOFRAME,$0-0
	MOVW	8(R4), R11	// lwa: sign-extended
	CMP	R11, $0
	BGT	forward
	BR	·sigCatch(SB)	// sent by a process: caught like any other
forward:
	MOVD	$·goSigHandler(SB), R11
	MOVD	(R11), R12
	MOVD	R12, CTR
	BR	(CTR)

// func queuedFixPC() uintptr
TEXT ·queuedFixPC(SB),NOSPLIT,$0-8
	MOVD	$·queuedFix(SB), R3
	MOVD	R3, ret+0(FP)
	RET
