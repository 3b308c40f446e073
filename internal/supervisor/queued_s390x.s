#include "textflag.h"

// func queuedFix()
// Called by the kernel as an SA_SIGINFO handler: R2 = signal, R3 =
// siginfo, R4 = context, R14 the restorer, R15 the stack. si_code is the
// int32 at offset 8 of siginfo (big-endian, a plain 32-bit load). Only R1
// (volatile in the s390x ELF ABI; the runtime's sigtramp sets what it
// needs itself) is used; the jump keeps the stack and R14.
TEXT ·queuedFix(SB),NOSPLIT|NOFRAME,$0-0
	MOVW	8(R3), R1	// sign-extended
	CMPW	R1, $0
	BGT	forward
	BR	·sigCatch(SB)	// sent by a process: caught like any other
forward:
	MOVD	$·goSigHandler(SB), R1
	MOVD	(R1), R1
	BR	(R1)

// func queuedFixPC() uintptr
TEXT ·queuedFixPC(SB),NOSPLIT,$0-8
	MOVD	$·queuedFix(SB), R1
	MOVD	R1, ret+0(FP)
	RET
