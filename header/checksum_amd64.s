//go:build !purego

#include "textflag.h"

// func sumBlocks(b []byte) uint64
TEXT ·sumBlocks(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	SHRQ $6, CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y15, Y15, Y15
	TESTQ CX, CX
	JZ    reduce

loop:
	VMOVDQU    0(SI), Y4
	VMOVDQU    32(SI), Y5
	// Interleaving the 32-bit words with zeros widens them to 64 bits.
	VPUNPCKLDQ Y15, Y4, Y6
	VPUNPCKHDQ Y15, Y4, Y7
	VPUNPCKLDQ Y15, Y5, Y8
	VPUNPCKHDQ Y15, Y5, Y9
	VPADDQ     Y6, Y0, Y0
	VPADDQ     Y7, Y1, Y1
	VPADDQ     Y8, Y2, Y2
	VPADDQ     Y9, Y3, Y3
	ADDQ       $64, SI
	DECQ       CX
	JNZ        loop

reduce:
	VPADDQ       Y1, Y0, Y0
	VPADDQ       Y3, Y2, Y2
	VPADDQ       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	VPEXTRQ      $1, X0, BX
	ADDQ         BX, AX
	VZEROUPPER
	MOVQ         AX, ret+24(FP)
	RET
