// Forward throughput of the Blockscope decoder on a Hugging Face folder: tokens/s at float32 on
// CPU, with the peak resident memory. Used by bench_forward_vs_hf.sh, which runs transformers on
// the same folder, in the same run, with the same thread count, and prints the ratio.
//
//   bench_forward MODEL_DIR [SEQ=512] [RUNS=5] [THREADS=nproc]
#include "model/decoder.h"
#include "model/modelhandle.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sys/resource.h>
#include <vector>

using namespace blockscope;

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_forward MODEL_DIR [SEQ] [RUNS] [THREADS]\n");
        return 2;
    }
    const std::int64_t seq = argc > 2 ? std::atoll(argv[2]) : 512;
    const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
    if (argc > 4)
        at::set_num_threads(std::atoi(argv[4]));
    c10::NoGradGuard noGrad;
    auto model = ModelHandle::open(argv[1]);
    Decoder dec(model);
    at::manual_seed(0);
    at::Tensor tokens = at::randint(model->architecture().vocab, {1, seq}, at::kLong);
    const auto mask = UnitMask::dense(dec.layers());
    dec.forward(tokens, mask); // warm-up
    std::vector<double> seconds;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        at::Tensor logits = dec.forward(tokens, mask);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(seconds.begin(), seconds.end());
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    std::printf("blockscope: params %.1fM threads %d seq %lld median %.3f s (min %.3f max %.3f) -> %.1f tokens/s, peak "
                "RSS %.0f MB\n",
        model->parameterCount() / 1e6, at::get_num_threads(), static_cast<long long>(seq), seconds[seconds.size() / 2],
        seconds.front(), seconds.back(), seq / seconds[seconds.size() / 2], u.ru_maxrss / 1024.0);
    return 0;
}
