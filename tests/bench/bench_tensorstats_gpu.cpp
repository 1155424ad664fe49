// Tensor statistics on the GPU kernel against the CPU reference, on the same tensor in the same
// run. Prints the speedup; exits 0 with a note when no CUDA device is present.
#include "common/device.h"
#include "model/modelhandle.h"
#include "model/safetensorswriter.h"
#include "model/tensorstats.h"
#include "model/tensorstats_gpu.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

using namespace blockscope;

int main()
{
    if (!cudaAvailable()) {
        std::printf("bench_tensorstats_gpu: no CUDA device (%s); nothing measured\n", deviceSummary().c_str());
        return 0;
    }
    const auto dir = std::filesystem::temp_directory_path() / "blockscope-bench-stats";
    std::filesystem::create_directories(dir);
    const std::int64_t n = 64ll * 1024 * 1024; // 256 MB of float32
    std::vector<float> values(n);
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0, 1);
    for (auto &v : values)
        v = dist(rng);
    writeSafetensors((dir / "t.safetensors").string(),
        {{"model.embed_tokens.weight", DType::F32, {n / 1024, 1024},
            std::span(reinterpret_cast<const std::byte *>(values.data()), values.size() * 4)}});
    auto model = ModelHandle::open((dir / "t.safetensors").string());
    const TensorInfo &t = model->tensors().front();
    computeTensorStatsOnGpu(model, t); // warm-up: context creation, first allocation
    auto time = [](auto &&f) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    TensorStats cpu, gpu;
    const double cpuMs = time([&] { cpu = computeTensorStats(*model, t); });
    const double gpuMs = time([&] { gpu = *computeTensorStatsOnGpu(model, t); });
    std::printf(
        "tensor stats, %lld float32 values: CPU %.1f ms, GPU (incl. host-to-device copy) %.1f ms, speedup %.1fx\n",
        static_cast<long long>(n), cpuMs, gpuMs, cpuMs / gpuMs);
    std::printf("mean cpu %.6g gpu %.6g, std cpu %.6g gpu %.6g\n", cpu.mean, gpu.mean, cpu.std, gpu.std);
    std::filesystem::remove_all(dir);
    return 0;
}
