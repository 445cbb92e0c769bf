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

// func mul8Rows512(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k, n int)
//
// mul4Rows512 for eight rows of c: sixteen accumulators hide the latency
// of the fused multiply-adds better, and each row of b's panel loaded
// serves twice as many of them. Each element is the same chain as in
// mul4Rows, so the kernels give the same bits.
//
// Registers: DI walks a's row 0 (rows 1, 2 and 4 at R8, 2·R8 and 4·R8 from
// it), R9 row 3 (rows 5 and 7 at 2·R8 and 4·R8 from it), AX row 6; SI is
// the panel's start in b's row 0 and R13 walks down it; DX is the panel's
// start in c's row 0 (rows at R11, 2·R11, R12 and 4·R11; R9 then points at
// row 4 for the stores); BX counts the columns left, CX the steps of k
// left, R14 is a masked panel's width.
TEXT ·mul8Rows512(SB), NOSPLIT, $0-64
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

wide:
	CMPQ   BX, $32
	JLT    narrow
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ   a+16(FP), DI
	LEAQ   (DI)(R8*2), R9
	ADDQ   R8, R9
	LEAQ   (R9)(R8*2), AX
	ADDQ   R8, AX
	MOVQ   SI, R13
	MOVQ   k+48(FP), CX

wideLoop:
	VMOVUPS      (R13), Z16
	VMOVUPS      64(R13), Z17
	VBROADCASTSS (DI), Z18
	VFMADD231PS  Z16, Z18, Z0
	VFMADD231PS  Z17, Z18, Z1
	VBROADCASTSS (DI)(R8*1), Z19
	VFMADD231PS  Z16, Z19, Z2
	VFMADD231PS  Z17, Z19, Z3
	VBROADCASTSS (DI)(R8*2), Z20
	VFMADD231PS  Z16, Z20, Z4
	VFMADD231PS  Z17, Z20, Z5
	VBROADCASTSS (R9), Z21
	VFMADD231PS  Z16, Z21, Z6
	VFMADD231PS  Z17, Z21, Z7
	VBROADCASTSS (DI)(R8*4), Z22
	VFMADD231PS  Z16, Z22, Z8
	VFMADD231PS  Z17, Z22, Z9
	VBROADCASTSS (R9)(R8*2), Z23
	VFMADD231PS  Z16, Z23, Z10
	VFMADD231PS  Z17, Z23, Z11
	VBROADCASTSS (AX), Z24
	VFMADD231PS  Z16, Z24, Z12
	VFMADD231PS  Z17, Z24, Z13
	VBROADCASTSS (R9)(R8*4), Z25
	VFMADD231PS  Z16, Z25, Z14
	VFMADD231PS  Z17, Z25, Z15
	ADDQ         $4, DI
	ADDQ         $4, R9
	ADDQ         $4, AX
	ADDQ         R10, R13
	DECQ         CX
	JNZ          wideLoop

	LEAQ    (DX)(R11*4), R9
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, (DX)(R11*1)
	VMOVUPS Z3, 64(DX)(R11*1)
	VMOVUPS Z4, (DX)(R11*2)
	VMOVUPS Z5, 64(DX)(R11*2)
	VMOVUPS Z6, (DX)(R12*1)
	VMOVUPS Z7, 64(DX)(R12*1)
	VMOVUPS Z8, (R9)
	VMOVUPS Z9, 64(R9)
	VMOVUPS Z10, (R9)(R11*1)
	VMOVUPS Z11, 64(R9)(R11*1)
	VMOVUPS Z12, (R9)(R11*2)
	VMOVUPS Z13, 64(R9)(R11*2)
	VMOVUPS Z14, (R9)(R12*1)
	VMOVUPS Z15, 64(R9)(R12*1)
	ADDQ    $128, SI
	ADDQ    $128, DX
	SUBQ    $32, BX
	JMP     wide

narrow:
	CMPQ    BX, $0
	JLE     end
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
	VPXORD  Z8, Z8, Z8
	VPXORD  Z10, Z10, Z10
	VPXORD  Z12, Z12, Z12
	VPXORD  Z14, Z14, Z14
	MOVQ    a+16(FP), DI
	LEAQ    (DI)(R8*2), R9
	ADDQ    R8, R9
	LEAQ    (R9)(R8*2), AX
	ADDQ    R8, AX
	MOVQ    SI, R13
	MOVQ    k+48(FP), CX

narrowLoop:
	VMOVUPS.Z    (R13), K1, Z16
	VBROADCASTSS (DI), Z18
	VFMADD231PS  Z16, Z18, Z0
	VBROADCASTSS (DI)(R8*1), Z19
	VFMADD231PS  Z16, Z19, Z2
	VBROADCASTSS (DI)(R8*2), Z20
	VFMADD231PS  Z16, Z20, Z4
	VBROADCASTSS (R9), Z21
	VFMADD231PS  Z16, Z21, Z6
	VBROADCASTSS (DI)(R8*4), Z22
	VFMADD231PS  Z16, Z22, Z8
	VBROADCASTSS (R9)(R8*2), Z23
	VFMADD231PS  Z16, Z23, Z10
	VBROADCASTSS (AX), Z24
	VFMADD231PS  Z16, Z24, Z12
	VBROADCASTSS (R9)(R8*4), Z25
	VFMADD231PS  Z16, Z25, Z14
	ADDQ         $4, DI
	ADDQ         $4, R9
	ADDQ         $4, AX
	ADDQ         R10, R13
	DECQ         CX
	JNZ          narrowLoop

	LEAQ    (DX)(R11*4), R9
	VMOVUPS Z0, K1, (DX)
	VMOVUPS Z2, K1, (DX)(R11*1)
	VMOVUPS Z4, K1, (DX)(R11*2)
	VMOVUPS Z6, K1, (DX)(R12*1)
	VMOVUPS Z8, K1, (R9)
	VMOVUPS Z10, K1, (R9)(R11*1)
	VMOVUPS Z12, K1, (R9)(R11*2)
	VMOVUPS Z14, K1, (R9)(R12*1)
	LEAQ    (SI)(R14*4), SI
	LEAQ    (DX)(R14*4), DX
	SUBQ    R14, BX
	JMP     narrow

end:
	VZEROUPPER
	RET
