#include "textflag.h"

// func queuedFix()
// Called by the kernel as an SA_SIGINFO handler: R0 = signal, R1 =
// siginfo, R2 = context, LR the restorer. si_code is the int32 at offset
// 8 of siginfo. Only R16 and R17 (the intra-procedure scratch registers)
// are used; the jump keeps the stack and LR.
TEXT ·queuedFix(SB),NOSPLIT|NOFRAME,$0-0
	MOVW	8(R1), R16
	CMPW	$0, R16
	BGT	forward
	B	·sigCatch(SB)	// sent by a process: caught like any other
forward:
	MOVD	$·goSigHandler(SB), R17
	MOVD	(R17), R16
	JMP	(R16)

// func queuedFixPC() uintptr
TEXT ·queuedFixPC(SB),NOSPLIT,$0-8
	MOVD	$·queuedFix(SB), R0
	MOVD	R0, ret+0(FP)
	RET
