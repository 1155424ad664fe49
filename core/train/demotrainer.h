#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace blockscope {

class JobContext;

// Trains the bundled demo model from scratch with LibTorch: a SentencePiece BPE tokenizer on the
// corpus, then a small Llama-architecture decoder by next-token prediction (AdamW, warm-up and
// cosine schedule). Writes a Hugging Face folder: config.json, model.safetensors,
// tokenizer.model and training.json (options, losses, the command that reproduces it).
struct DemoTrainingOptions
{
    std::string corpus; // UTF-8 text
    std::string outDir;
    std::int64_t vocab = 1024;
    std::int64_t hidden = 128;
    std::int64_t layers = 4;
    std::int64_t heads = 4;
    std::int64_t kvHeads = 2;
    std::int64_t intermediate = 344;
    std::int64_t context = 1024;
    std::int64_t steps = 600;
    std::int64_t batch = 8;
    std::int64_t seqLen = 256; // training windows; RoPE extends to `context` at inference
    std::int64_t longEvery = 0; // every n-th step trains on a full-context window (0 = never)
    double lr = 3e-3;
    double minLr = 3e-4;
    std::int64_t warmup = 50;
    double weightDecay = 0.1;
    std::uint64_t seed = 1234;
    double validationFraction = 0.05;
    std::string command; // recorded in training.json
};

struct DemoTrainingResult
{
    double firstLoss = 0;
    double finalTrainLoss = 0;
    double validationLoss = 0;
    double validationPerplexity = 0;
    std::int64_t trainTokens = 0;
    std::int64_t validationTokens = 0;
    double seconds = 0;
};

// `onLoss(step, loss)` is called after every step. Throws FormatError for a bad corpus,
// JobCancelled when stopped.
DemoTrainingResult trainDemoModel(
    const DemoTrainingOptions &options, JobContext &job, const std::function<void(std::int64_t, double)> &onLoss = {});

} // namespace blockscope
