//go:build amd64 && !purego

#include "textflag.h"

// MOMENTS and STEP update the parameters at DI from the gradients at SI
// and the moments at R8 and R9, by size (PS for eight lanes of Y registers,
// SS for the low lane of X ones) and move (VMOVUPS or VMOVSS), with the
// constants in registers 8 to 13 and clobbering 0 to 5: MOMENTS sets
// m = β₁m + (1-β₁)g and v = β₂v + (1-β₂)g², leaving m in r1 and v in r2;
// after r3 = √v, STEP sets p -= stepSize·m/(√v + ε).
#define MOMENTS(MOV, MUL, FMA, r0, r1, r2, r3, r8, r9, r10, r11) \
	MOV (SI), r0; \
	MOV (R8), r1; \
	MUL r1, r8, r1; \
	FMA r0, r10, r1; \
	MUL r0, r11, r2; \
	MUL r0, r2, r2; \
	MOV (R9), r3; \
	FMA r3, r9, r2; \
	MOV r1, (R8); \
	MOV r2, (R9)

#define STEP(MOV, MUL, ADD, DIV, SUB, r1, r3, r4, r5, r12, r13) \
	ADD r13, r3, r3; \
	MUL r12, r1, r4; \
	DIV r3, r4, r4; \
	MOV (DI), r5; \
	SUB r4, r5, r5; \
	MOV r5, (DI)

// func adamRows(params, grads, m, v *float32, n int, beta1, beta2, keep1, keep2, stepSize, epsilon float32)
//
// Eight parameters at a time, then the last 0 to 7 one by one with the
// same operations, so every parameter rounds alike. DI, SI, R8 and R9 walk
// the parameters, gradients, m and v; CX counts the parameters left.
TEXT ·adamRows(SB), NOSPLIT, $0-64
	VBROADCASTSS beta1+40(FP), Y8
	VBROADCASTSS beta2+44(FP), Y9
	VBROADCASTSS keep1+48(FP), Y10
	VBROADCASTSS keep2+52(FP), Y11
	VBROADCASTSS stepSize+56(FP), Y12
	VBROADCASTSS epsilon+60(FP), Y13
	MOVQ         params+0(FP), DI
	MOVQ         grads+8(FP), SI
	MOVQ         m+16(FP), R8
	MOVQ         v+24(FP), R9
	MOVQ         n+32(FP), CX

vectors:
	CMPQ CX, $8
	JLT  scalars
	MOMENTS(VMOVUPS, VMULPS, VFMADD231PS, Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11)
	VSQRTPS Y2, Y3
	STEP(VMOVUPS, VMULPS, VADDPS, VDIVPS, VSUBPS, Y1, Y3, Y4, Y5, Y12, Y13)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	SUBQ $8, CX
	JMP  vectors

scalars:
	CMPQ CX, $0
	JLE  done
	MOMENTS(VMOVSS, VMULSS, VFMADD231SS, X0, X1, X2, X3, X8, X9, X10, X11)
	VSQRTSS X2, X2, X3
	STEP(VMOVSS, VMULSS, VADDSS, VDIVSS, VSUBSS, X1, X3, X4, X5, X12, X13)
	ADDQ $4, DI
	ADDQ $4, SI
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ CX
	JMP  scalars

done:
	VZEROUPPER
	RET
