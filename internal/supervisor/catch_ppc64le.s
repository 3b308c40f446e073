#include "textflag.h"

// func sigCatch()
// Called by the kernel as a signal handler (ELFv2): R3 = signal, LR the
// restorer, R12 this function's address. Every register it changes is
// restored by rt_sigreturn; the stack is left as the kernel set it. A
// system call's result is in R3 (CR0.SO set on an error).
TEXT ·sigCatch(SB),NOSPLIT|NOFRAME,$0-0
	MOVD	R3, R14
	CMP	R14, $64
	BGT	done	// never past sigBytes
	SYSCALL	$20	// getpid
	MOVD	$·catchPID(SB), R15
	MOVWZ	(R15), R15
	CMPW	R3, R15
	BNE	done
	MOVD	$·catchFD(SB), R15
	MOVWZ	(R15), R3
	MOVD	$·sigBytes(SB), R4
	ADD	R14, R4
	MOVD	$1, R5
	SYSCALL	$4	// write
	BVS	lost	// CR0.SO: an error, R3 its number
	CMP	R3, $1
	BEQ	done
lost:
	// The byte did not go (the pipe is full): mark the signal lost.
	MOVD	$·sigLost(SB), R15
	ADD	R14, R14, R16
	ADD	R16, R16, R16	// R16 = 4 * signal
	ADD	R16, R15
	MOVD	$1, R16
	MOVW	R16, (R15)
	// Then a wake byte (0): if it goes, a read comes after the mark; if
	// the pipe is still full, a read is still to come.
	MOVD	$·catchFD(SB), R15
	MOVWZ	(R15), R3
	MOVD	$·sigBytes(SB), R4
	MOVD	$1, R5
	SYSCALL	$4	// write
done:
	RET

// func sigCatchPC() uintptr
TEXT ·sigCatchPC(SB),NOSPLIT,$0-8
	MOVD	$·sigCatch(SB), R3
	MOVD	R3, ret+0(FP)
	RET
