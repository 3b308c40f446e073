#include "textflag.h"

// func sigCatch()
// Called by the kernel as a signal handler: R2 = signal, R14 the
// restorer, R15 the stack. Every register it changes is restored by
// rt_sigreturn; the stack is left as the kernel set it. A system call's
// number goes in R1, its arguments in R2 to R4, its result in R2.
TEXT ·sigCatch(SB),NOSPLIT|NOFRAME,$0-0
	MOVD	R2, R6
	CMP	R6, $64
	BGT	done	// never past sigBytes
	MOVW	$20, R1	// getpid
	SYSCALL
	MOVD	$·catchPID(SB), R7
	MOVWZ	(R7), R7
	CMPW	R2, R7
	BNE	done
	MOVD	$·catchFD(SB), R7
	MOVWZ	(R7), R2
	MOVD	$·sigBytes(SB), R3
	ADD	R6, R3
	MOVD	$1, R4
	MOVW	$4, R1	// write
	SYSCALL
	CMP	R2, $1
	BEQ	done
	// The byte did not go (the pipe is full): mark the signal lost.
	MOVD	$·sigLost(SB), R7
	MOVD	R6, R8
	ADD	R8, R8
	ADD	R8, R8	// R8 = 4 * signal
	ADD	R8, R7
	MOVW	$1, R8
	MOVW	R8, (R7)
	// Then a wake byte (0): if it goes, a read comes after the mark; if
	// the pipe is still full, a read is still to come.
	MOVD	$·catchFD(SB), R7
	MOVWZ	(R7), R2
	MOVD	$·sigBytes(SB), R3
	MOVD	$1, R4
	MOVW	$4, R1	// write
	SYSCALL
done:
	RET

// func sigCatchPC() uintptr
TEXT ·sigCatchPC(SB),NOSPLIT,$0-8
	MOVD	$·sigCatch(SB), R1
	MOVD	R1, ret+0(FP)
	RET
