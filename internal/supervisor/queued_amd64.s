#include "textflag.h"

// func queuedFix()
// Called by the kernel as an SA_SIGINFO handler: DI = signal, SI =
// siginfo, DX = context, the return address the restorer. si_code is the
// int32 at offset 8 of siginfo. Only AX is used (the runtime's sigtramp
// does not read it); the jump keeps the stack and the return address.
TEXT ·queuedFix(SB),NOSPLIT|NOFRAME,$0-0
	MOVL	8(SI), AX
	CMPL	AX, $0
	JGT	forward
	JMP	·sigCatch(SB)	// sent by a process: caught like any other
forward:
	MOVQ	·goSigHandler(SB), AX
	JMP	AX

// func queuedFixPC() uintptr
TEXT ·queuedFixPC(SB),NOSPLIT,$0-8
	LEAQ	·queuedFix(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
