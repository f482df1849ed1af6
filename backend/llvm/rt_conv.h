/* rt_conv.h — the geometry of one convolution, shared by the im2col
 * lowering (rt_conv.c) and the shifted-product lowering of strided 1-D
 * and deep stride-1 convolutions (rt_conv_shift.c). Not part of the ABI.
 */
#ifndef MMGC_RT_CONV_H
#define MMGC_RT_CONV_H

#include <stdint.h>

/* The sizes of one convolution and its tiling. */
typedef struct {
    int64_t B, Ci, H, W;    /* x [B, Ci, H, W]      */
    int64_t Co, Kh, Kw;     /* w [Co, Ci, Kh, Kw]   */
    int64_t Ho, Wo;         /* y [B, Co, Ho, Wo]    */
    int64_t sh, sw, ph, pw; /* strides; top and left padding */
    int64_t ckk, hw, chw;   /* Ci*Kh*Kw, Ho*Wo, Ci*H*W */
    int pos;                /* col is position-major: [n, CKK] (strided convs) */
    int64_t G;              /* samples per task      */
    int64_t tile;           /* positions per tile (hw when G > 1) */
    int64_t ngroups;        /* tasks: ceil(B / G)    */
    int64_t P;              /* weight-gradient partial sums */
    int64_t slot;           /* a task's scratch floats (rt_scratch_take) */
    const float *bias;      /* forward: the epilogue's bias, one a channel (rt.h), or NULL */
    int relu;               /* forward: a ReLU after the bias */
} Conv;

/* The forward pass's epilogue on g samples of y [g, Co, Ho*Wo], just
 * computed: y + bias, then ReLU if asked; nothing without a bias. */
void rt_conv_epilogue(const Conv *c, float *y, int64_t g);

/* ---- shifted products (rt_conv_shift.c) -----------------------------------
 * 1 if the shifted-product lowering takes op (an Op: the forward pass or
 * a gradient) of convolution c. */
int rt_conv_shift_takes(const Conv *c, int op);
/* Scratch floats of the shifted-product lowering of op (an Op). */
int64_t rt_conv_shift_scratch(const Conv *c, int op);
void rt_conv_shift_forward(const Conv *c, float *y, const float *x, const float *w, float *scratch);
void rt_conv_shift_grad_input(const Conv *c, float *dx, const float *dy, const float *w, float *scratch);
void rt_conv_shift_grad_weight(const Conv *c, float *dw, const float *x, const float *dy, float *scratch);

/* ---- the input gradient scattered (rt_conv_scatter.c) ---------------------
 * Small unpadded stride-1 convolutions (Conv2Net's second layer): 1 if c's
 * shape suits; 1 if rt_conv_grad_input takes it here, which
 * rt_conv_scatter_mode picks: -1 (the default) with AVX-512 where OpenBLAS
 * sums as rt_gemm's own kernels do (rt_gemm_own_sums: the same bits as
 * im2col and OpenBLAS), 1 wherever AVX-512 is, 0 never (tests and
 * build/rt_kernels set it). */
extern int rt_conv_scatter_mode;
int rt_conv_scatter_geometry(const Conv *c);
int rt_conv_scatter_takes(const Conv *c);
/* Floats of a task's scratch (dy of one sample, W wide). */
int64_t rt_conv_scatter_floats(const Conv *c);
/* dx_b [Ci, H, W] = the input gradient of one sample, dy_b [Co, Ho*Wo],
 * with w [Co, CKK]; dyw is the task's scratch. */
void rt_conv_scatter_sample(const Conv *c, const float *w, const float *dy, float *dyw, float *dx);

#endif
