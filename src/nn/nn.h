/* Kernels as forward/backward pairs (conventions below).
 *
 * Conventions: row-major, contiguous. Linear weights are (OC, C) like torch. Forward
 * overwrites its outputs; backward ACCUMULATES (+=) into every gradient buffer it is given.
 * A NULL gradient pointer means "not wanted" (frozen weight, or input that needs no grad).
 * Kernels never allocate, log or fail; scratch comes from the caller.
 * Shape letters: B batch, T tokens, C channels, OC out channels, NH heads, HS head size,
 * Tq query tokens, Tk key tokens, N rows. */
#ifndef CTCIR_NN_NN_H
#define CTCIR_NN_NN_H

#include <stdbool.h>
#include <stddef.h>

/* ---- linear: out = inp W^T + b -------------------------------------------------------- */
/* out [N,OC], inp [N,C], weight [OC,C], bias [OC] or NULL */
void linear_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C, int OC);
/* dinp [N,C] += dout W; dweight [OC,C] += dout^T inp; dbias [OC] += sum_n dout */
void linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                     const float *weight, int N, int C, int OC);
/* dbias [OC] += sum over the N rows of dout [N,OC] (linear_backward's bias part) */
void linear_bias_backward(float *dbias, const float *dout, int N, int OC);

/* ---- layernorm (biased variance) -------------------------------------------------------- */
/* out [N,C], mean [N], rstd [N] (saved for backward), inp [N,C], weight/bias [C] */
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight, const float *bias,
                       int N, int C, float eps);
void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                        const float *weight, const float *mean, const float *rstd, int N, int C);

/* ---- elementwise activations: out/inp/dout/dinp [n] ------------------------------------- */
void quick_gelu_forward(float *out, const float *inp, size_t n); /* x * sigmoid(1.702 x) */
void quick_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n);
void gelu_forward(float *out, const float *inp, size_t n); /* 0.5 x (1 + erf(x/sqrt2)) */
void gelu_backward(float *dinp, const float *dout, const float *inp, size_t n);
void relu_forward(float *out, const float *inp, size_t n);
void relu_backward(float *dinp, const float *dout, const float *inp, size_t n);

/* ---- softmax over the last axis --------------------------------------------------------- */
/* out/inp [N,C] */
void softmax_forward(float *out, const float *inp, int N, int C);
/* dinp [N,C] += out * (dout - sum(dout * out)) */
void softmax_backward(float *dinp, const float *dout, const float *out, int N, int C);

/* ---- multi-head attention (the projections are separate linear calls) --------------------
 * q [B,Tq,C], k/v [B,Tk,C], heads are consecutive slices of width HS = C/NH.
 * att [B,NH,Tq,Tk]: the softmax weights, saved for backward and exposed to callers (the
 * concept-consistency loss reads them). out [B,Tq,C] = concat_h(att_h v_h).
 * Scores are scale * q_h k_h^T. Masks: `causal` masks key j > query i; key_len [B] (or NULL)
 * masks keys j >= key_len[b]. A fully masked row is impossible by construction
 * (key_len >= 1), so no row is all -inf. */
void attention_forward(float *out, float *att, const float *q, const float *k, const float *v, const int *key_len,
                       bool causal, float scale, int B, int Tq, int Tk, int C, int NH);
/* dq [B,Tq,C], dk/dv [B,Tk,C] accumulate; any may be NULL. datt_in [B,NH,Tq,Tk] or NULL:
 * an extra gradient arriving at the softmax weights themselves (from a loss on att).
 * scratch: B*NH*Tq*Tk floats. */
void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *datt_in, const float *att,
                        const float *q, const float *k, const float *v, float scale, int B, int Tq, int Tk, int C,
                        int NH, float *scratch);

/* ---- fused attention: the same product without the map (src/nn/attention_fused.c) --------
 * q/k/v/out as above. stats [B,NH,Tq,2]: per query row the max score and the sum of the
 * exponentials, saved for backward, which recomputes the scores from q and k. Query rows go
 * in blocks of CT_ATT_ROW_BLOCK; scratch: attention_fused_scratch_floats(Tq, Tk, nslots)
 * floats, and the kernels use at most nslots OpenMP threads (one scratch slot each). Output,
 * weights and gradients equal attention_forward/backward's (without datt_in). */
#define CT_ATT_ROW_BLOCK 64
size_t attention_fused_scratch_floats(int Tq, int Tk, int nslots);
void attention_fused_forward(float *out, float *stats, const float *q, const float *k, const float *v,
                             const int *key_len, bool causal, float scale, int B, int Tq, int Tk, int C, int NH,
                             float *scratch, int nslots);
/* dq [B,Tq,C], dk/dv [B,Tk,C] accumulate; any may be NULL. */
void attention_fused_backward(float *dq, float *dk, float *dv, const float *dout, const float *stats, const float *q,
                              const float *k, const float *v, const int *key_len, bool causal, float scale, int B,
                              int Tq, int Tk, int C, int NH, float *scratch, int nslots);
/* References in double; att_scratch [B,NH,Tq,Tk] (the references materialise the map). */
void attention_fused_forward_ref(float *out, float *stats, const float *q, const float *k, const float *v,
                                 const int *key_len, bool causal, float scale, int B, int Tq, int Tk, int C, int NH,
                                 float *att_scratch);
void attention_fused_backward_ref(float *dq, float *dk, float *dv, const float *dout, const float *stats,
                                  const float *q, const float *k, const float *v, const int *key_len, bool causal,
                                  float scale, int B, int Tq, int Tk, int C, int NH, float *att_scratch);

/* ---- residual add: out [n] = a + b; da/db [n] += dout (either may be NULL) --------------- */
void residual_forward(float *out, const float *a, const float *b, size_t n);
void residual_backward(float *da, float *db, const float *dout, size_t n);

/* ---- patch embedding: stride-p convolution without bias, as im2col + GEMM ----------------
 * pix [B,Cin,S,S], weight [D,Cin,p,p], G = S/p, P = G*G patches taken row-major
 * (patch = row * G + col). out [B,P,D]. cols [B*P, Cin*p*p] is the im2col buffer, saved for
 * backward. scratch for backward: B*P*Cin*p*p floats (only when dpix is wanted). */
void patch_embed_forward(float *out, float *cols, const float *pix, const float *weight, int B, int Cin, int S, int p,
                         int D);
void patch_embed_backward(float *dpix, float *dweight, const float *dout, const float *cols, const float *weight,
                          float *scratch, int B, int Cin, int S, int p, int D);

/* ---- embeddings ---------------------------------------------------------------------------
 * Vision: out [B,T,D] with out[b,0] = cls + pos[0], out[b,t] = patches[b,t-1] + pos[t];
 * patches [B,T-1,D], cls [D], pos [T,D]. */
void class_pos_embed_forward(float *out, const float *patches, const float *cls, const float *pos, int B, int T, int D);
void class_pos_embed_backward(float *dpatches, float *dcls, float *dpos, const float *dout, int B, int T, int D);
/* Text: out [B,T,D] = wte[ids[b,t]] + wpe[t] (wpe may be NULL); ids [B,T] must be valid rows
 * of wte [V,D] (the caller checks). dwte [V,D] is dense but only the rows of ids are touched;
 * the gradient w.r.t. the looked-up embeddings (inputs_embeds) is dout itself. */
void token_embed_forward(float *out, const int *ids, const float *wte, const float *wpe, int B, int T, int D);
void token_embed_backward(float *dwte, float *dwpe, const float *dout, const int *ids, int B, int T, int D);

/* ---- plain reference versions of the optimised kernels (tests and benchmarks) ------------ */
void linear_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int N, int C, int OC);
void attention_forward_ref(float *out, float *att, const float *q, const float *k, const float *v, const int *key_len,
                           bool causal, float scale, int B, int Tq, int Tk, int C, int NH);
void attention_backward_ref(float *dq, float *dk, float *dv, const float *dout, const float *datt_in, const float *att,
                            const float *q, const float *k, const float *v, float scale, int B, int Tq, int Tk, int C,
                            int NH, float *scratch);
void quick_gelu_forward_ref(float *out, const float *inp, size_t n);
void quick_gelu_backward_ref(float *dinp, const float *dout, const float *inp, size_t n);
void layernorm_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const float *mean, const float *rstd, int N, int C);
void gelu_forward_ref(float *out, const float *inp, size_t n);
void gelu_backward_ref(float *dinp, const float *dout, const float *inp, size_t n);
void softmax_forward_ref(float *out, const float *inp, int N, int C);
void patch_embed_forward_ref(float *out, const float *pix, const float *weight, int B, int Cin, int S, int p, int D);

/* Row helpers shared by softmax and attention: y [C] = softmax(x) (may alias), dx += ... */
void softmax_row(float *y, const float *x, int C);
/* The same, also returning the row's max and the sum of its exponentials (fused attention keeps
 * these instead of the row). */
void softmax_row_stats(float *y, const float *x, int C, float *mx_out, float *sum_out);
void softmax_row_backward(float *dx, const float *dy, const float *y, int C);
/* g [C] = y * (g - g . y): the gradient through the softmax, in place (masked y = 0 -> 0). */
void softmax_row_backward_inplace(float *g, const float *y, int C);

#endif
