#include "textflag.h"

// func sigCatch()
// Called by the kernel as a signal handler: R0 = signal, LR the
// restorer. Every register it changes is restored by rt_sigreturn; the
// stack is left as the kernel set it.
TEXT ·sigCatch(SB),NOSPLIT|NOFRAME,$0-0
	MOVD	R0, R9
	CMP	$64, R9
	BHI	done	// never past sigBytes
	MOVD	$172, R8	// getpid
	SVC
	MOVD	$·catchPID(SB), R10
	MOVW	(R10), R10
	CMPW	R10, R0
	BNE	done
	MOVD	$·catchFD(SB), R10
	MOVW	(R10), R0
	MOVD	$·sigBytes(SB), R1
	ADD	R9, R1, R1
	MOVD	$1, R2
	MOVD	$64, R8	// write
	SVC
	CMP	$1, R0
	BEQ	done
	// The byte did not go (the pipe is full): mark the signal lost.
	MOVD	$·sigLost(SB), R1
	LSL	$2, R9, R2
	ADD	R2, R1, R1
	MOVW	$1, R2
	MOVW	R2, (R1)
	// Then a wake byte (0): if it goes, a read comes after the mark; if
	// the pipe is still full, a read is still to come.
	MOVD	$·catchFD(SB), R10
	MOVW	(R10), R0
	MOVD	$·sigBytes(SB), R1
	MOVD	$1, R2
	MOVD	$64, R8	// write
	SVC
done:
	RET

// func sigCatchPC() uintptr
TEXT ·sigCatchPC(SB),NOSPLIT,$0-8
	MOVD	$·sigCatch(SB), R0
	MOVD	R0, ret+0(FP)
	RET
