#include "textflag.h"

// func sigNoop()
// The kernel calls it as a signal handler; it returns to the sigreturn
// trampoline the kernel set up.
TEXT ·sigNoop(SB),NOSPLIT|NOFRAME,$0-0
	RET

// func sigNoopPC() uintptr
TEXT ·sigNoopPC(SB),NOSPLIT,$0-8
	MOVD $·sigNoop(SB), R0
	MOVD R0, ret+0(FP)
	RET
