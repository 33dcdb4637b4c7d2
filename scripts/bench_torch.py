#!/usr/bin/python3
"""PyTorch fp32 reference timings for docs/perf-bf16.md (not used by the build or the tests).

  bench_torch.py image [batch=32] [steps=3]      ViT-B/32 image tower forward (images/s)
  bench_torch.py step  [batch=16] [steps=2]      a ConText-CIR-shaped training step (triplets/s)

The towers follow openai/CLIP's model.py layout (pre-LayerNorm residual blocks, quick_gelu,
nn.MultiheadAttention, 50 image tokens at 224 px / patch 32, 77 text positions with the causal
mask), random weights, torch.set_num_threads(2). The step does the matrix work of ctcir's step
with default options: the image tower forward+backward on the reference and target images (2B),
the text tower on the B captions (with gradient) and on 3 noun phrases per caption (no gradient:
cc_detach_isolated), 4 cross-attention fusion blocks (dv 768, 8 heads, MLP 4 dv) + PMA pooling
+ projection for the queries, targets and query negatives (with gradient) and the isolated
phrases (no gradient), the contrastive loss and AdamW over all parameters. The concept-consistency
loss itself is left out (small next to the rest). An approximation of the step, not a port."""
import resource
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(2)
torch.manual_seed(0)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, d, h, causal_len=None, cross_dim=None):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, h, kdim=cross_dim, vdim=cross_dim)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), QuickGELU(), nn.Linear(4 * d, d))
        self.mask = None
        if causal_len:
            self.mask = torch.full((causal_len, causal_len), float("-inf")).triu_(1)

    def forward(self, x, kv=None):
        y = self.ln_1(x)
        kv = y if kv is None else kv
        x = x + self.attn(y, kv, kv, need_weights=False, attn_mask=self.mask)[0]
        return x + self.mlp(self.ln_2(x))


class Vision(nn.Module):
    def __init__(self, width=768, layers=12, heads=12, patch=32, size=224):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        n = (size // patch) ** 2 + 1
        self.cls = nn.Parameter(torch.randn(width) * 0.02)
        self.pos = nn.Parameter(torch.randn(n, width) * 0.01)
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])

    def forward(self, x):  # tokens [N, B, width] (openai's layout), before ln_post
        x = self.conv1(x).flatten(2).permute(2, 0, 1)
        x = torch.cat([self.cls.expand(1, x.shape[1], -1), x]) + self.pos[:, None]
        x = self.ln_pre(x)
        for b in self.blocks:
            x = b(x)
        return x


class Text(nn.Module):
    def __init__(self, width=512, layers=12, heads=8, vocab=49408, ctx=77):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.randn(ctx, width) * 0.01)
        self.blocks = nn.ModuleList([Block(width, heads, causal_len=ctx) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(width)

    def forward(self, ids):
        x = (self.tok(ids) + self.pos).permute(1, 0, 2)
        for b in self.blocks:
            x = b(x)
        return self.ln_final(x)


class Head(nn.Module):  # fusion (cross-attention blocks) + PMA + projection
    def __init__(self, dv=768, dt=512, layers=4, heads=8, proj=512):
        super().__init__()
        self.blocks = nn.ModuleList([Block(dv, heads, cross_dim=dt) for _ in range(layers)])
        self.seed = nn.Parameter(torch.randn(1, 1, dv) * 0.02)
        self.pma = nn.MultiheadAttention(dv, heads)
        self.ln0, self.ln1 = nn.LayerNorm(dv), nn.LayerNorm(dv)
        self.rff = nn.Linear(dv, dv)
        self.proj = nn.Linear(dv, proj)

    def forward(self, v, t):
        for b in self.blocks:
            v = b(v, t)
        s = self.seed.expand(1, v.shape[1], -1)
        o = self.ln0(s + self.pma(s, v, v, need_weights=False)[0])
        o = self.ln1(o + torch.relu(self.rff(o)))
        return self.proj(o[0])


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "image"
    if what == "image":
        B = int(sys.argv[2]) if len(sys.argv) > 2 else 32
        steps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
        vis = Vision().eval()
        x = torch.randn(B, 3, 224, 224)
        with torch.no_grad():
            vis(x)
            t, c = time.perf_counter(), time.process_time()
            for _ in range(steps):
                vis(x)
            dt, dc = time.perf_counter() - t, time.process_time() - c
        print(f'{{"what": "image", "framework": "pytorch {torch.__version__} fp32", "batch": {B}, '
              f'"items_per_s": {B * steps / dt:.4f}, "peak_rss_mb": {rss_mb():.0f}, "seconds": {dt:.4f}, '
              f'"cpu_seconds": {dc:.4f}}}')
        return
    B = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    vis, txt, head = Vision(), Text(), Head()
    params = list(vis.parameters()) + list(txt.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-5, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
    ref, tgt = torch.randn(B, 3, 224, 224), torch.randn(B, 3, 224, 224)
    caps = torch.randint(0, 49406, (B, 77))
    phrases = torch.randint(0, 49406, (3 * B, 77))
    empty = torch.randint(0, 49406, (1, 77))

    def step():
        opt.zero_grad(set_to_none=True)
        v = vis(torch.cat([ref, tgt]))
        vr, vt = v[:, :B], v[:, B:]
        tc = txt(caps)
        te = txt(empty).expand(-1, B, -1)
        q = head(vr, tc)
        t = head(vt, te)
        qn = head(vr, te)
        with torch.no_grad():  # isolated phrase passes, stop-gradient
            tp = txt(phrases)
            head(vr.detach().repeat(1, 3, 1), tp)
        qn_, t_, q_ = [nn.functional.normalize(z, dim=-1) for z in (qn, t, q)]
        s = q_ @ t_.T / 0.07
        own = (q_ * qn_).sum(-1, keepdim=True) / 0.07
        loss = nn.functional.cross_entropy(torch.cat([s, own], 1), torch.arange(B))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    step()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    dt, dc = time.perf_counter() - t, time.process_time() - c
    print(f'{{"what": "step", "framework": "pytorch {torch.__version__} fp32", "batch": {B}, '
          f'"items_per_s": {B * steps / dt:.4f}, "peak_rss_mb": {rss_mb():.0f}, "seconds": {dt:.4f}, '
          f'"cpu_seconds": {dc:.4f}}}')


if __name__ == "__main__":
    main()
