//go:build amd64 && !purego

#include "textflag.h"

// func mul4Rows512(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k, n int)
//
// mul4Rows in AVX-512: panels of 32 columns in eight accumulators of 16
// lanes, then the last 1 to 31 columns in panels of at most 16 under the
// lane mask K1, which also keeps the loads and stores within the rows. Each
// element is the same fused multiply-add chain over k as in mul4Rows, so
// the two give the same bits.
//
// Registers as in mul4Rows.
TEXT ·mul4Rows512(SB), NOSPLIT, $0-64
	MOVQ c+0(FP), DX
	MOVQ ldc+8(FP), R11
	SHLQ $2, R11
	LEAQ (R11)(R11*2), R12
	MOVQ lda+24(FP), R8
	SHLQ $2, R8
	MOVQ b+32(FP), SI
	MOVQ ldb+40(FP), R10
	SHLQ $2, R10
	MOVQ n+56(FP), BX

panel32:
	CMPQ   BX, $32
	JLT    panel16
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ   a+16(FP), DI
	LEAQ   (DI)(R8*2), R9
	ADDQ   R8, R9
	MOVQ   SI, R13
	MOVQ   k+48(FP), CX

loop32:
	VMOVUPS      (R13), Z8
	VMOVUPS      64(R13), Z9
	VBROADCASTSS (DI), Z10
	VFMADD231PS  Z8, Z10, Z0
	VFMADD231PS  Z9, Z10, Z1
	VBROADCASTSS (DI)(R8*1), Z11
	VFMADD231PS  Z8, Z11, Z2
	VFMADD231PS  Z9, Z11, Z3
	VBROADCASTSS (DI)(R8*2), Z12
	VFMADD231PS  Z8, Z12, Z4
	VFMADD231PS  Z9, Z12, Z5
	VBROADCASTSS (R9), Z13
	VFMADD231PS  Z8, Z13, Z6
	VFMADD231PS  Z9, Z13, Z7
	ADDQ         $4, DI
	ADDQ         $4, R9
	ADDQ         R10, R13
	DECQ         CX
	JNZ          loop32

	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, (DX)(R11*1)
	VMOVUPS Z3, 64(DX)(R11*1)
	VMOVUPS Z4, (DX)(R11*2)
	VMOVUPS Z5, 64(DX)(R11*2)
	VMOVUPS Z6, (DX)(R12*1)
	VMOVUPS Z7, 64(DX)(R12*1)
	ADDQ    $128, SI
	ADDQ    $128, DX
	SUBQ    $32, BX
	JMP     panel32

panel16:
	CMPQ    BX, $0
	JLE     done
	// R14 = the panel's width, min(BX, 16); K1 = its lane mask.
	MOVQ    $16, R14
	CMPQ    BX, R14
	CMOVQLT BX, R14
	MOVQ    R14, CX
	MOVL    $1, AX
	SHLL    CX, AX
	DECL    AX
	KMOVW   AX, K1
	VPXORD  Z0, Z0, Z0
	VPXORD  Z2, Z2, Z2
	VPXORD  Z4, Z4, Z4
	VPXORD  Z6, Z6, Z6
	MOVQ    a+16(FP), DI
	LEAQ    (DI)(R8*2), R9
	ADDQ    R8, R9
	MOVQ    SI, R13
	MOVQ    k+48(FP), CX

loop16:
	VMOVUPS.Z    (R13), K1, Z8
	VBROADCASTSS (DI), Z10
	VFMADD231PS  Z8, Z10, Z0
	VBROADCASTSS (DI)(R8*1), Z11
	VFMADD231PS  Z8, Z11, Z2
	VBROADCASTSS (DI)(R8*2), Z12
	VFMADD231PS  Z8, Z12, Z4
	VBROADCASTSS (R9), Z13
	VFMADD231PS  Z8, Z13, Z6
	ADDQ         $4, DI
	ADDQ         $4, R9
	ADDQ         R10, R13
	DECQ         CX
	JNZ          loop16

	VMOVUPS Z0, K1, (DX)
	VMOVUPS Z2, K1, (DX)(R11*1)
	VMOVUPS Z4, K1, (DX)(R11*2)
	VMOVUPS Z6, K1, (DX)(R12*1)
	LEAQ    (SI)(R14*4), SI
	LEAQ    (DX)(R14*4), DX
	SUBQ    R14, BX
	JMP     panel16

done:
	VZEROUPPER
	RET
