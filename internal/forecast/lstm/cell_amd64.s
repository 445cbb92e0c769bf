//go:build amd64 && !purego

#include "textflag.h"

// Eight-lane constants for the exponential (exp32's, see activation.go) and
// the activations built on it.
#define LANES8(name, bits) \
	DATA name+0(SB)/4, bits; \
	DATA name+4(SB)/4, bits; \
	DATA name+8(SB)/4, bits; \
	DATA name+12(SB)/4, bits; \
	DATA name+16(SB)/4, bits; \
	DATA name+20(SB)/4, bits; \
	DATA name+24(SB)/4, bits; \
	DATA name+28(SB)/4, bits; \
	GLOBL name(SB), RODATA|NOPTR, $32

LANES8(cellOne<>, $0x3f800000)     // 1, and the exponent bias 127 in place
LANES8(cellTwo<>, $0x40000000)     // 2
LANES8(cellSign<>, $0x80000000)    // the sign bit
LANES8(expHi<>, $0x42b00000)       // 88: eˣ stays finite and 2ⁿ normal
LANES8(expLo<>, $0xc2ae0000)       // -87
LANES8(expLog2e<>, $0x3fb8aa3b)    // log₂e
LANES8(expRound<>, $0x4b400000)    // 1.5·2²³
LANES8(expLn2Hi<>, $0x3f318000)    // 0.693359375
LANES8(expLn2Lo<>, $0xb95e8083)    // -2.12194440e-4
LANES8(expP0<>, $0x39506967)       // 1.9875691500e-4
LANES8(expP1<>, $0x3ab743ce)       // 1.3981999507e-3
LANES8(expP2<>, $0x3c088908)       // 8.3334519073e-3
LANES8(expP3<>, $0x3d2aa9c1)       // 4.1665795894e-2
LANES8(expP4<>, $0x3e2aaaaa)       // 1.6666665459e-1
LANES8(expP5<>, $0x3f000000)       // 5.0000001201e-1

// cellMask<> is eight all-ones lanes then eight zero lanes: the eight lanes
// at byte offset 4·(8-w) enable the first w of a row's columns.
DATA cellMask<>+0(SB)/8, $0xffffffffffffffff
DATA cellMask<>+8(SB)/8, $0xffffffffffffffff
DATA cellMask<>+16(SB)/8, $0xffffffffffffffff
DATA cellMask<>+24(SB)/8, $0xffffffffffffffff
DATA cellMask<>+32(SB)/8, $0
DATA cellMask<>+40(SB)/8, $0
DATA cellMask<>+48(SB)/8, $0
DATA cellMask<>+56(SB)/8, $0
GLOBL cellMask<>(SB), RODATA|NOPTR, $64

// EXP sets x to eˣ lane by lane, clobbering t and u: exp32's algorithm with
// fused multiply-adds, and x clamped to [-87, 88] so that 2ⁿ is a normal
// number (the sigmoid and tanh built on it are saturated there anyway).
// The clamps return x itself where it is NaN, so NaN stays NaN.
#define EXP(x, t, u) \
	VMOVUPS      expHi<>(SB), t; \
	VMINPS       x, t, x; \
	VMOVUPS      expLo<>(SB), t; \
	VMAXPS       x, t, x; \
	VMOVUPS      expRound<>(SB), t; \
	VFMADD231PS  expLog2e<>(SB), x, t; \
	VSUBPS       expRound<>(SB), t, u; \
	VFNMADD231PS expLn2Hi<>(SB), u, x; \
	VFNMADD231PS expLn2Lo<>(SB), u, x; \
	VPSLLD       $23, t, t; \
	VPADDD       cellOne<>(SB), t, t; \
	VMOVUPS      expP0<>(SB), u; \
	VFMADD213PS  expP1<>(SB), x, u; \
	VFMADD213PS  expP2<>(SB), x, u; \
	VFMADD213PS  expP3<>(SB), x, u; \
	VFMADD213PS  expP4<>(SB), x, u; \
	VFMADD213PS  expP5<>(SB), x, u; \
	VMULPS       x, u, u; \
	VFMADD213PS  x, x, u; \
	VADDPS       cellOne<>(SB), u, u; \
	VMULPS       t, u, x

// SIGMOID sets x to 1/(1+e⁻ˣ), clobbering t and u.
#define SIGMOID(x, t, u) \
	VXORPS  cellSign<>(SB), x, x; \
	EXP(x, t, u); \
	VADDPS  cellOne<>(SB), x, x; \
	VMOVUPS cellOne<>(SB), t; \
	VDIVPS  x, t, x

// TANH sets x to 1-2/(e²ˣ+1), clobbering t and u.
#define TANH(x, t, u) \
	VADDPS  x, x, x; \
	EXP(x, t, u); \
	VADDPS  cellOne<>(SB), x, x; \
	VMOVUPS cellTwo<>(SB), t; \
	VDIVPS  x, t, t; \
	VMOVUPS cellOne<>(SB), x; \
	VSUBPS  t, x, x

// func cellStepRows(z, bias, cPrev, c, ct, h *float32, hStride, rows, units, hasPrev int)
//
// For each row, eight units at a time (the last 1 to 8 under a lane mask,
// which keeps loads and stores within the row): adds the bias to the four
// gate blocks of z and activates them in place, then sets c, tanh(c) and
// h = o·tanh(c). Y0 to Y3 hold i, f, g and o, Y4 c, Y5 tanh(c) and then h,
// Y15 the lane mask.
//
// Registers: DI walks z's row, SI the bias, R8 cPrev's row, R9 c's, R10
// ct's, R11 h's; the f, g and o blocks are BX, 2·BX and R12 bytes after the
// i block. DX counts the row's units left, CX the rows left, R14 is the
// chunk's width in bytes.
TEXT ·cellStepRows(SB), NOSPLIT, $0-80
	MOVQ z+0(FP), DI
	MOVQ bias+8(FP), SI
	MOVQ cPrev+16(FP), R8
	MOVQ c+24(FP), R9
	MOVQ ct+32(FP), R10
	MOVQ h+40(FP), R11
	MOVQ rows+56(FP), CX
	MOVQ units+64(FP), BX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), R12

row:
	MOVQ units+64(FP), DX

chunk:
	MOVQ    $8, R14
	CMPQ    DX, R14
	CMOVQLT DX, R14
	MOVQ    $8, AX
	SUBQ    R14, AX
	LEAQ    cellMask<>(SB), R13
	VMOVUPS (R13)(AX*4), Y15
	SHLQ    $2, R14

	VMASKMOVPS (DI), Y15, Y0
	VMASKMOVPS (SI), Y15, Y6
	VADDPS     Y6, Y0, Y0
	VMASKMOVPS (DI)(BX*1), Y15, Y1
	VMASKMOVPS (SI)(BX*1), Y15, Y6
	VADDPS     Y6, Y1, Y1
	VMASKMOVPS (DI)(BX*2), Y15, Y2
	VMASKMOVPS (SI)(BX*2), Y15, Y6
	VADDPS     Y6, Y2, Y2
	VMASKMOVPS (DI)(R12*1), Y15, Y3
	VMASKMOVPS (SI)(R12*1), Y15, Y6
	VADDPS     Y6, Y3, Y3

	SIGMOID(Y0, Y6, Y7)
	SIGMOID(Y1, Y6, Y7)
	TANH(Y2, Y6, Y7)
	SIGMOID(Y3, Y6, Y7)
	VMASKMOVPS Y0, Y15, (DI)
	VMASKMOVPS Y1, Y15, (DI)(BX*1)
	VMASKMOVPS Y2, Y15, (DI)(BX*2)
	VMASKMOVPS Y3, Y15, (DI)(R12*1)

	// c = f·cPrev + i·g, or i·g at the first step.
	VMULPS Y2, Y0, Y4
	CMPQ   hasPrev+72(FP), $0
	JEQ    cellDone
	VMASKMOVPS  (R8), Y15, Y5
	VFMADD231PS Y5, Y1, Y4

cellDone:
	VMASKMOVPS Y4, Y15, (R9)
	VMOVAPS    Y4, Y5
	TANH(Y5, Y6, Y7)
	VMASKMOVPS Y5, Y15, (R10)
	VMULPS     Y5, Y3, Y5
	VMASKMOVPS Y5, Y15, (R11)

	ADDQ R14, DI
	ADDQ R14, SI
	ADDQ R14, R8
	ADDQ R14, R9
	ADDQ R14, R10
	ADDQ R14, R11
	SHRQ $2, R14
	SUBQ R14, DX
	JG   chunk

	// Next row: z's is three blocks on, the bias starts again, and h's is
	// hStride units after the start of this one.
	ADDQ R12, DI
	SUBQ BX, SI
	MOVQ hStride+48(FP), AX
	SHLQ $2, AX
	ADDQ AX, R11
	SUBQ BX, R11
	DECQ CX
	JNZ  row

	VZEROUPPER
	RET

// func cellBackRows(gates, ct, cPrev, dOut, dhNext, dc, dGates *float32, dhStride, rows, units, hasPrev, hasNext int)
//
// For each row, eight units at a time (the last 1 to 8 under the lane mask
// Y14, which keeps loads and stores within the row): the gradient dh at
// the hidden state is dOut plus dhNext, if hasNext; from it and the cell
// gradient dc arriving from the next step come the four gate gradients and
// the cell gradient passed on to the previous step, which replaces dc. Y0
// holds dh, Y1 i and then f, Y2 g, Y3 o, Y4 tanh(c), Y5 dc, Y6 the total
// cell gradient and then the one passed on, Y15 the chunk's lane mask.
//
// Registers: DI walks the gates' row and SI dGates' (the f, g and o blocks
// are BX, 2·BX and R12 bytes after the i block), R8 ct's, R9 cPrev's, R10
// dOut's, R11 dhNext's and R13 dc's. DX counts the row's units left, CX the
// rows left, R14 is the chunk's width in bytes.
TEXT ·cellBackRows(SB), NOSPLIT, $0-96
	MOVQ units+72(FP), BX
	MOVQ BX, AX
	DECQ AX
	ANDQ $7, AX
	NEGQ AX
	ADDQ $7, AX
	LEAQ cellMask<>(SB), DX
	VMOVUPS (DX)(AX*4), Y14
	SHLQ $2, BX
	LEAQ (BX)(BX*2), R12
	MOVQ gates+0(FP), DI
	MOVQ ct+8(FP), R8
	MOVQ cPrev+16(FP), R9
	MOVQ dOut+24(FP), R10
	MOVQ dhNext+32(FP), R11
	MOVQ dc+40(FP), R13
	MOVQ dGates+48(FP), SI
	MOVQ rows+64(FP), CX

backRow:
	MOVQ units+72(FP), DX

backChunk:
	CMPQ     DX, $8
	JLT      backTail
	VPCMPEQD Y15, Y15, Y15
	MOVQ     $32, R14
	JMP      backLoad

backTail:
	VMOVAPS Y14, Y15
	MOVQ    DX, R14
	SHLQ    $2, R14

backLoad:
	VMASKMOVPS (R10), Y15, Y0
	CMPQ       hasNext+88(FP), $0
	JEQ        backNoNext
	VMASKMOVPS (R11), Y15, Y1
	VADDPS     Y1, Y0, Y0

backNoNext:
	VMASKMOVPS (DI), Y15, Y1
	VMASKMOVPS (DI)(BX*2), Y15, Y2
	VMASKMOVPS (DI)(R12*1), Y15, Y3
	VMASKMOVPS (R8), Y15, Y4
	VMASKMOVPS (R13), Y15, Y5

	// do = dh·tanh(c)·o(1-o)
	VMULPS     Y4, Y0, Y6
	VMULPS     Y3, Y6, Y6
	VMOVUPS    cellOne<>(SB), Y7
	VSUBPS     Y3, Y7, Y7
	VMULPS     Y7, Y6, Y6
	VMASKMOVPS Y6, Y15, (SI)(R12*1)

	// The total cell gradient: dc + dh·o(1-tanh²(c)).
	VMOVUPS      cellOne<>(SB), Y7
	VFNMADD231PS Y4, Y4, Y7
	VMULPS       Y3, Y0, Y6
	VFMADD213PS  Y5, Y7, Y6

	// di = dc·g·i(1-i)
	VMULPS     Y2, Y6, Y7
	VMULPS     Y1, Y7, Y7
	VMOVUPS    cellOne<>(SB), Y8
	VSUBPS     Y1, Y8, Y8
	VMULPS     Y8, Y7, Y7
	VMASKMOVPS Y7, Y15, (SI)

	// dg = dc·i(1-g²)
	VMULPS       Y1, Y6, Y7
	VMOVUPS      cellOne<>(SB), Y8
	VFNMADD231PS Y2, Y2, Y8
	VMULPS       Y8, Y7, Y7
	VMASKMOVPS   Y7, Y15, (SI)(BX*2)

	// The previous step's share, dc·f, and df = dc·f·cPrev(1-f), zero at
	// the first step.
	VMASKMOVPS (DI)(BX*1), Y15, Y1
	VMULPS     Y1, Y6, Y6
	VMASKMOVPS Y6, Y15, (R13)
	VXORPS     Y7, Y7, Y7
	CMPQ       hasPrev+80(FP), $0
	JEQ        backNoPrev
	VMASKMOVPS (R9), Y15, Y7
	VMULPS     Y7, Y6, Y7
	VMOVUPS    cellOne<>(SB), Y8
	VSUBPS     Y1, Y8, Y8
	VMULPS     Y8, Y7, Y7

backNoPrev:
	VMASKMOVPS Y7, Y15, (SI)(BX*1)

	ADDQ R14, DI
	ADDQ R14, SI
	ADDQ R14, R8
	ADDQ R14, R9
	ADDQ R14, R10
	ADDQ R14, R11
	ADDQ R14, R13
	SHRQ $2, R14
	SUBQ R14, DX
	JG   backChunk

	// Next row: the gates' are three blocks on, and dhNext's is dhStride
	// units after the start of this one.
	ADDQ R12, DI
	ADDQ R12, SI
	MOVQ dhStride+56(FP), AX
	SHLQ $2, AX
	ADDQ AX, R11
	SUBQ BX, R11
	DECQ CX
	JNZ  backRow

	VZEROUPPER
	RET
