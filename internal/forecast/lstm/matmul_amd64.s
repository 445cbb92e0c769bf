//go:build amd64 && !purego

#include "textflag.h"

// tailMask<> is eight all-ones lanes then eight zero lanes: the eight lanes
// at byte offset 4·(8-w) enable the first w of a row's columns.
DATA tailMask<>+0(SB)/8, $0xffffffffffffffff
DATA tailMask<>+8(SB)/8, $0xffffffffffffffff
DATA tailMask<>+16(SB)/8, $0xffffffffffffffff
DATA tailMask<>+24(SB)/8, $0xffffffffffffffff
DATA tailMask<>+32(SB)/8, $0
DATA tailMask<>+40(SB)/8, $0
DATA tailMask<>+48(SB)/8, $0
DATA tailMask<>+56(SB)/8, $0
GLOBL tailMask<>(SB), RODATA|NOPTR, $64

// func mul4Rows(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k, n int)
//
// For each panel of 16 columns of c, eight accumulators (4 rows × 2 vectors
// of 8) take one fused multiply-add per step of k: a broadcast element of a
// times a row of b's panel. Eight independent chains keep both FMA units
// busy through their latency. The last 1 to 15 columns go in panels of at
// most 8 under a lane mask, which also keeps the loads and stores within the
// rows.
//
// Registers: DI walks a's row 0 (rows 1 and 2 at R8 and 2·R8 from it), R9
// walks row 3; SI is the panel's start in b's row 0 and R13 walks down it;
// DX is the panel's start in c's row 0 (rows at R11, 2·R11 and R12); BX
// counts the columns left, CX the steps of k left.
TEXT ·mul4Rows(SB), NOSPLIT, $0-64
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

panel16:
	CMPQ   BX, $16
	JLT    panel8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   a+16(FP), DI
	LEAQ   (DI)(R8*2), R9
	ADDQ   R8, R9
	MOVQ   SI, R13
	MOVQ   k+48(FP), CX

loop16:
	VMOVUPS      (R13), Y8
	VMOVUPS      32(R13), Y9
	VBROADCASTSS (DI), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (DI)(R8*1), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS (DI)(R8*2), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS (R9), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         $4, DI
	ADDQ         $4, R9
	ADDQ         R10, R13
	DECQ         CX
	JNZ          loop16

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, (DX)(R11*1)
	VMOVUPS Y3, 32(DX)(R11*1)
	VMOVUPS Y4, (DX)(R11*2)
	VMOVUPS Y5, 32(DX)(R11*2)
	VMOVUPS Y6, (DX)(R12*1)
	VMOVUPS Y7, 32(DX)(R12*1)
	ADDQ    $64, SI
	ADDQ    $64, DX
	SUBQ    $16, BX
	JMP     panel16

panel8:
	CMPQ    BX, $0
	JLE     done
	// R14 = the panel's width, min(BX, 8); Y15 = its lane mask.
	MOVQ    $8, R14
	CMPQ    BX, R14
	CMOVQLT BX, R14
	MOVQ    $8, CX
	SUBQ    R14, CX
	LEAQ    tailMask<>(SB), AX
	VMOVUPS (AX)(CX*4), Y15
	VXORPS  Y0, Y0, Y0
	VXORPS  Y2, Y2, Y2
	VXORPS  Y4, Y4, Y4
	VXORPS  Y6, Y6, Y6
	MOVQ    a+16(FP), DI
	LEAQ    (DI)(R8*2), R9
	ADDQ    R8, R9
	MOVQ    SI, R13
	MOVQ    k+48(FP), CX

loop8:
	VMASKMOVPS   (R13), Y15, Y8
	VBROADCASTSS (DI), Y10
	VFMADD231PS  Y8, Y10, Y0
	VBROADCASTSS (DI)(R8*1), Y11
	VFMADD231PS  Y8, Y11, Y2
	VBROADCASTSS (DI)(R8*2), Y12
	VFMADD231PS  Y8, Y12, Y4
	VBROADCASTSS (R9), Y13
	VFMADD231PS  Y8, Y13, Y6
	ADDQ         $4, DI
	ADDQ         $4, R9
	ADDQ         R10, R13
	DECQ         CX
	JNZ          loop8

	VMASKMOVPS Y0, Y15, (DX)
	VMASKMOVPS Y2, Y15, (DX)(R11*1)
	VMASKMOVPS Y4, Y15, (DX)(R11*2)
	VMASKMOVPS Y6, Y15, (DX)(R12*1)
	ADDQ       $32, SI
	ADDQ       $32, DX
	SUBQ       R14, BX
	JMP        panel8

done:
	VZEROUPPER
	RET
