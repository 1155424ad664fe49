// Block-sparse attention (kernels/block_sparse_attention.cu through core's blockSparseAttention)
// against at::scaled_dot_product_attention with the flash backend, in the same run: bf16, b = 1,
// Hq = 32, Hkv = 8, d = 128, B = 64, 8k/32k/64k tokens, sparsity 0.5/0.8/0.9 of the causal triangle
// (seeded random masks, one per head) and the all-ones mask. Medians of 10 timed runs after 10
// warm-ups, timed with CUDA events; TFLOP/s count 4·d FLOPs per selected causal (i, j) pair.
// Exits 0 with a note when no CUDA device is present.
#include "common/device.h"
#include "sparse/attentionkernels.h"
#include "sparse/blockmask.h"

#include <ATen/ATen.h>

#ifdef BLOCKSCOPE_HAVE_CUDA
#include <ATen/cuda/CUDAEvent.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using namespace blockscope;

#ifdef BLOCKSCOPE_HAVE_CUDA
namespace {

constexpr int warmups = 10;
constexpr int runs = 10;

double medianMs(const std::function<void()> &f)
{
    for (int i = 0; i < warmups; ++i)
        f();
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        at::cuda::CUDAEvent start(cudaEventDefault), stop(cudaEventDefault);
        start.record();
        f();
        stop.record();
        stop.synchronize();
        ms.push_back(start.elapsed_time(stop));
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

struct Masks
{
    at::Tensor mask; // [1, Hq, nb, nb] bool on the GPU
    double pairs = 0; // selected causal (i, j) pairs over all heads
};

// One seeded random mask per head keeping min(k, I + 1) blocks of row I (blockmask.h's baseline).
Masks randomMasks(std::int64_t heads, int nb, int B, double density)
{
    std::vector<std::uint8_t> cells(static_cast<std::size_t>(heads) * nb * nb, 0);
    Masks m;
    for (std::int64_t h = 0; h < heads; ++h) {
        const sparse::BlockMask bm = sparse::randomMask(nb, density, 1000 + static_cast<std::uint64_t>(h), false);
        for (int I = 0; I < nb; ++I) {
            for (int J = 0; J <= I; ++J) {
                if (!bm.on(I, J))
                    continue;
                cells[(static_cast<std::size_t>(h) * nb + I) * nb + J] = 1;
                m.pairs += J < I ? double(B) * B : double(B) * (B + 1) / 2;
            }
        }
    }
    m.mask = at::from_blob(cells.data(), {1, heads, nb, nb}, at::kByte).to(at::kBool).to(at::kCUDA);
    return m;
}

} // namespace
#endif

int main()
{
    if (!cudaAvailable() || !sparse::sparseKernelsCompiled()) {
        std::printf("bench_sparse_attention_gpu: no CUDA device; skipped (%s)\n", deviceSummary().c_str());
        return 0;
    }
#ifdef BLOCKSCOPE_HAVE_CUDA
    const std::int64_t Hq = 32, Hkv = 8, d = 128;
    const int B = 64;
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    std::printf("block-sparse attention vs dense flash: bf16, b=1, Hq=%lld, Hkv=%lld, d=%lld, B=%d; medians of %d "
                "runs after %d warm-ups\n",
        static_cast<long long>(Hq), static_cast<long long>(Hkv), static_cast<long long>(d), B, runs, warmups);
    std::string summary;
    for (const std::int64_t N : {8192ll, 32768ll, 65536ll}) {
        at::manual_seed(7);
        const auto opts = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
        const at::Tensor q = at::randn({1, Hq, N, d}, opts);
        const at::Tensor k = at::randn({1, Hkv, N, d}, opts);
        const at::Tensor v = at::randn({1, Hkv, N, d}, opts);
        const at::Tensor kx = k.repeat_interleave(Hq / Hkv, 1);
        const at::Tensor vx = v.repeat_interleave(Hq / Hkv, 1);
        const int nb = static_cast<int>(N / B);
        const double densePairs = double(Hq) * double(N) * double(N + 1) / 2;
        auto tflops = [&](double pairs, double ms) { return 4.0 * d * pairs / (ms * 1e-3) / 1e12; };

        // Dense baseline: the flash kernel by name; the dispatcher's choice if flash refuses.
        const char *denseName = "flash";
        std::function<void()> dense
            = [&] { at::_scaled_dot_product_flash_attention(q, kx, vx, 0.0, true, false, scale); };
        try {
            dense();
        } catch (const std::exception &) {
            denseName = "sdpa(auto)";
            dense = [&] { at::scaled_dot_product_attention(q, kx, vx, {}, 0.0, true, scale); };
        }
        const double denseMs = medianMs(dense);
        std::printf("N=%6lld dense %-10s %9.3f ms  %6.1f TFLOP/s\n", static_cast<long long>(N), denseName, denseMs,
            tflops(densePairs, denseMs));

        const at::Tensor ones = at::ones({1, Hq, nb, nb}, at::TensorOptions().dtype(at::kBool).device(at::kCUDA));
        const double onesMs = medianMs([&] { sparse::blockSparseAttention(q, k, v, ones, B, scale); });
        std::printf("N=%6lld all-ones mask    %9.3f ms  %6.1f TFLOP/s  all-ones/dense %.2fx\n",
            static_cast<long long>(N), onesMs, tflops(densePairs, onesMs), onesMs / denseMs);

        for (const double sparsity : {0.5, 0.8, 0.9}) {
            const Masks m = randomMasks(Hq, nb, B, 1.0 - sparsity);
            const double maskMs = medianMs([&] { sparse::blockSparseAttention(q, k, v, m.mask, B, scale); });
            const double realised = 1.0 - m.pairs / densePairs;
            std::printf("N=%6lld sparsity %.1f (pair sparsity %.3f) %9.3f ms  %6.1f TFLOP/s  speedup %.2fx\n",
                static_cast<long long>(N), sparsity, realised, maskMs, tflops(m.pairs, maskMs), denseMs / maskMs);
            char buf[96];
            std::snprintf(
                buf, sizeof buf, " %lldk@%.1f %.2fx", static_cast<long long>(N / 1024), sparsity, denseMs / maskMs);
            summary += buf;
        }
    }
    std::printf("summary: speedup vs dense flash (bitmask):%s\n", summary.c_str());
    std::printf("done\n");
#endif
    return 0;
}
