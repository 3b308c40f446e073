#include "textflag.h"

// func sigCatch()
// Called by the kernel as a signal handler: DI = signal, the return
// address the restorer. Every register it changes is restored by
// rt_sigreturn; the stack is left as the kernel set it.
TEXT ·sigCatch(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	DI, R8
	CMPQ	R8, $64
	JHI	done	// never past sigBytes
	MOVL	$39, AX	// getpid
	SYSCALL
	MOVL	·catchPID(SB), R9
	CMPL	AX, R9
	JNE	done
	MOVL	·catchFD(SB), DI
	LEAQ	·sigBytes(SB), SI
	ADDQ	R8, SI
	MOVL	$1, DX
	MOVL	$1, AX	// write
	SYSCALL
	CMPQ	AX, $1
	JEQ	done
	// The byte did not go (the pipe is full): mark the signal lost.
	LEAQ	·sigLost(SB), SI
	MOVL	$1, (SI)(R8*4)
	// Then a wake byte (0): if it goes, a read comes after the mark; if
	// the pipe is still full, a read is still to come. Either way the
	// reader takes the mark.
	MOVL	·catchFD(SB), DI
	LEAQ	·sigBytes(SB), SI
	MOVL	$1, DX
	MOVL	$1, AX	// write
	SYSCALL
done:
	RET

// func sigCatchPC() uintptr
TEXT ·sigCatchPC(SB),NOSPLIT,$0-8
	LEAQ	·sigCatch(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
